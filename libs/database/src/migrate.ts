import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { dataSourceOptions, ensureDatabase } from './options';

export interface MigrateOptions {
  /** How long the lock lasts unless renewed (renewed every third of it while migrations run). */
  leaseSeconds?: number;
  /** How often a waiting process tries to take the lock. */
  retryMs?: number;
}

/** Server errors meaning "this account may not create databases" (managed MySQL): the database must already exist. */
const CREATE_REFUSED = new Set(['ER_DBACCESS_DENIED_ERROR', 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_OPTION_PREVENTS_STATEMENT']);

/** Galera certification conflicts and InnoDB deadlocks on the lock row: someone else took it first. */
const LOST_RACE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

const errorCode = (error: unknown) => (error as { code?: string }).code ?? '';

/**
 * Creates the database when missing (unless DATABASE_CREATE=false, or the
 * server refuses it) and runs pending migrations, holding the
 * `migration_lock` row's lease: a row, not GET_LOCK, because a named lock
 * is local to one node of a Galera cluster. A waiting process takes the lock
 * once it is released (and then finds nothing to do) or once its holder
 * stopped renewing it (a killed deploy).
 */
export async function migrate(
  config: Pick<AppConfig, 'databaseUrl'> & Partial<Pick<AppConfig, 'databaseCreate'>>,
  log: (line: string) => void = () => {},
  options: MigrateOptions = {},
): Promise<void> {
  const leaseSeconds = options.leaseSeconds ?? 30;
  const retryMs = options.retryMs ?? 250;
  if (config.databaseCreate !== false) {
    await ensureDatabase(config.databaseUrl).catch((error: unknown) => {
      if (!CREATE_REFUSED.has(errorCode(error))) throw error;
      log('CREATE DATABASE refused: using the existing database');
    });
  }
  const ds = new DataSource(dataSourceOptions(config));
  await ds.initialize();
  try {
    const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`.slice(0, 100);
    await ds.query(
      `CREATE TABLE IF NOT EXISTS migration_lock (
         id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
         holder VARCHAR(100) NOT NULL,
         expires_at DATETIME(3) NOT NULL
       ) ENGINE=InnoDB DEFAULT CHARSET=ascii`,
    );
    await ds.query(`INSERT IGNORE INTO migration_lock (id, holder, expires_at) VALUES (1, '', '1970-01-01 00:00:01')`);
    const extend = async (onlyMine: boolean): Promise<boolean> => {
      try {
        const result: { affectedRows: number } = await ds.query(
          `UPDATE migration_lock SET holder = ?, expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND
           WHERE id = 1 AND (holder = ? ${onlyMine ? '' : 'OR expires_at < UTC_TIMESTAMP(3)'})`,
          [holder, leaseSeconds, holder],
        );
        return result.affectedRows === 1;
      } catch (error) {
        if (LOST_RACE.has(errorCode(error))) return false;
        throw error;
      }
    };
    let announced = false;
    while (!(await extend(false))) {
      if (!announced) log('waiting for the migration lock');
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
    const renewal = setInterval(
      () => {
        extend(true)
          .then((held) => held || log('migration lock lease lost while migrating'))
          .catch((error: unknown) => log(`migration lock renewal failed: ${(error as Error).message}`));
      },
      (leaseSeconds * 1000) / 3,
    );
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      for (const m of ran) log(`migration applied: ${m.name}`);
    } finally {
      clearInterval(renewal);
      await ds.query(`UPDATE migration_lock SET holder = '', expires_at = '1970-01-01 00:00:01' WHERE id = 1 AND holder = ?`, [holder]);
    }
  } finally {
    await ds.destroy();
  }
}
