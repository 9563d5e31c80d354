import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { dataSourceOptions, ensureDatabase } from './options';

/**
 * Creates the database when missing and runs pending migrations.
 * A MySQL named lock keeps two processes from racing the same migrations.
 */
export async function migrate(config: Pick<AppConfig, 'databaseUrl'>, log: (line: string) => void = () => {}): Promise<void> {
  await ensureDatabase(config.databaseUrl);
  const ds = new DataSource(dataSourceOptions(config));
  await ds.initialize();
  try {
    const [{ got }] = await ds.query<{ got: number | null }[]>(`SELECT GET_LOCK('loginsign_migrations', 60) AS got`);
    if (Number(got) !== 1) throw new Error('Another process holds the migration lock for over 60 s');
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      for (const m of ran) log(`migration applied: ${m.name}`);
    } finally {
      await ds.query(`SELECT RELEASE_LOCK('loginsign_migrations')`);
    }
  } finally {
    await ds.destroy();
  }
}
