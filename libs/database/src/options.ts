import { DataSourceOptions } from 'typeorm';
import { createConnection, RowDataPacket } from 'mysql2/promise';
import { AppConfig } from '@app/config';
import { MIGRATIONS } from './migrations';

/** TypeORM options shared by the apps, the migration CLI and the tests. */
export function dataSourceOptions(config: Pick<AppConfig, 'databaseUrl'>, entities: DataSourceOptions['entities'] = []): DataSourceOptions {
  return {
    type: 'mysql',
    url: config.databaseUrl,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    entities,
    supportBigNumbers: true,
    bigNumberStrings: false,
    // maxPreparedStatements: TypeORM sends text queries, never prepared ones, and mysql2's default (16,000)
    // preallocates an LRU of that size per pooled connection (~0.5 MB each, ~10 MB a pool).
    extra: { connectionLimit: 20, enableKeepAlive: true, maxPreparedStatements: 16 },
  };
}

/** Database name from a mysql:// URL. */
export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`DATABASE_URL must name a database ([A-Za-z0-9_]+), got "${name}"`);
  return name;
}

/** Runs one statement on the server of `databaseUrl`, without selecting its database. */
async function onServer(databaseUrl: string, sql: (name: string) => string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = databaseName(databaseUrl);
  url.pathname = '/';
  const conn = await createConnection({ uri: url.toString() });
  try {
    await conn.query(sql(name));
  } finally {
    await conn.end();
  }
}

/** Creates the database unless it exists (a deploy account of managed MySQL may see its database but not create one). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = databaseName(databaseUrl);
  url.pathname = '/';
  const conn = await createConnection({ uri: url.toString() });
  try {
    const [found] = await conn.query<RowDataPacket[]>(`SELECT 1 FROM information_schema.schemata WHERE schema_name = ?`, [name]);
    if (found.length === 0) await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

export const dropDatabase = (databaseUrl: string) => onServer(databaseUrl, (name) => `DROP DATABASE IF EXISTS \`${name}\``);
