// `migrate` as one deploy step: the lease row serialises concurrent runs
// (across nodes, unlike GET_LOCK), an abandoned lease is taken over, and a
// server that refuses CREATE DATABASE (managed MySQL) is not an error.
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, dropDatabase, ensureDatabase, migrate } from '@app/database';
import { MIGRATIONS } from '../../libs/database/src/migrations';
import { testEnv } from '../support/harness';
import { eventually } from '../support/eventually';

const freshConfig = () => loadConfig(testEnv());

async function withDb<T>(databaseUrl: string, use: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await new DataSource(dataSourceOptions({ databaseUrl })).initialize();
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

const applied = (lines: string[]) => lines.filter((l) => l.startsWith('migration applied')).length;

describe('migrate', () => {
  const databases: string[] = [];
  afterAll(async () => {
    for (const url of databases) await dropDatabase(url);
  });

  it('two concurrent runs on a fresh database: one applies every migration, the other finds nothing to do', async () => {
    const config = freshConfig();
    databases.push(config.databaseUrl);
    const logs: [string[], string[]] = [[], []];
    await Promise.all(logs.map((lines) => migrate(config, (l) => lines.push(l), { retryMs: 20 })));

    expect(logs.map(applied).sort()).toEqual([0, MIGRATIONS.length]);
    await withDb(config.databaseUrl, async (db) => {
      const [{ n }] = await db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM migrations');
      expect(Number(n)).toBe(MIGRATIONS.length);
      const [lock] = await db.query<{ holder: string; free: number }[]>('SELECT holder, expires_at < UTC_TIMESTAMP(3) AS free FROM migration_lock');
      expect(lock).toEqual({ holder: '', free: 1 });
    });
  });

  it('waits while another node holds a live lease and takes the lease over once it lapses', async () => {
    const config = freshConfig();
    databases.push(config.databaseUrl);
    await ensureDatabase(config.databaseUrl);
    await withDb(config.databaseUrl, async (db) => {
      await db.query(`CREATE TABLE migration_lock (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, holder VARCHAR(100) NOT NULL, expires_at DATETIME(3) NOT NULL)`);
      await db.query(`INSERT INTO migration_lock VALUES (1, 'other-node:1:dead', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)`);
      const lines: string[] = [];
      const run = migrate(config, (l) => lines.push(l), { retryMs: 20 });
      await eventually(() => lines.includes('waiting for the migration lock'), 'migrate to wait for the lock');
      const [{ tables }] = await db.query<{ tables: string }[]>(`SELECT COUNT(*) AS tables FROM information_schema.tables WHERE table_schema = DATABASE()`);
      expect(Number(tables)).toBe(1);

      // The other node died: its lease is no longer renewed and lapses.
      await db.query(`UPDATE migration_lock SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND`);
      await run;
      expect(applied(lines)).toBe(MIGRATIONS.length);
      const [lock] = await db.query<{ holder: string }[]>('SELECT holder FROM migration_lock');
      expect(lock.holder).toBe('');
    });
  });

  it('uses an existing database with a deploy account that may not create databases; DATABASE_CREATE=false never creates one', async () => {
    const config = freshConfig();
    databases.push(config.databaseUrl);
    const url = new URL(config.databaseUrl);
    const database = url.pathname.slice(1);
    await expect(migrate({ databaseUrl: config.databaseUrl, databaseCreate: false })).rejects.toMatchObject({ code: 'ER_BAD_DB_ERROR' });

    await ensureDatabase(config.databaseUrl);
    const user = `ls_mig_${randomBytes(4).toString('hex')}`;
    const root = await createConnection({ uri: `${url.protocol}//${url.username || 'root'}@${url.host}/` });
    try {
      for (const host of ['%', 'localhost']) {
        await root.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY 'pw'`);
        await root.query(`GRANT ALL ON \`${database}\`.* TO '${user}'@'${host}'`);
      }
      url.username = user;
      url.password = 'pw';
      const deploy = await createConnection({ uri: `${url.protocol}//${user}:pw@${url.host}/` });
      await expect(deploy.query(`CREATE DATABASE \`${database}_other\``)).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
      await deploy.end();

      const lines: string[] = [];
      await migrate({ databaseUrl: url.toString() }, (l) => lines.push(l));
      expect(applied(lines)).toBe(MIGRATIONS.length);
    } finally {
      for (const host of ['%', 'localhost']) await root.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      await root.end();
    }
  });
});
