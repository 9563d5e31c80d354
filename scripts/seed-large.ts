// npm run seed:large -- --users 1000000 --app <application id>
// Adds N users connected to one application of the configured database
// (DATABASE_URL, default mysql://root@127.0.0.1:3306/loginsign), in bulk, to try
// the developer portal at scale. Global IDs come from the sequence through the
// API's GLOBAL_ID_KEY (the same .data/secrets.json or environment as npm start),
// so they look exactly like real sign-ups. Nobody can log in as these users.
// Secondary indexes of the four tables are dropped while loading and rebuilt
// afterwards: do not run it against a database serving real traffic.
import 'reflect-metadata';
import { createPool, RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '@app/config';
import { migrate } from '@app/database';
import { seedUsers } from '../bench/lib/bulk-seed';

function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

async function main(): Promise<number> {
  const users = Number(option('users') ?? 1_000_000);
  const app = option('app');
  if (!app || !Number.isInteger(users) || users < 1 || users > 10_000_000) {
    console.error('usage: npm run seed:large -- --users 1000000 --app <application id>   (the id from the portal URL, /portal/apps/<id>)');
    return 2;
  }
  const config = loadConfig();
  await migrate(config);
  const pool = createPool({ uri: config.databaseUrl, connectionLimit: 1, timezone: 'Z' });
  pool.pool.on('connection', (conn) => conn.query('SET foreign_key_checks = 0'));
  try {
    const [rows] = await pool.query<({ id: string; name: string } & RowDataPacket)[]>('SELECT id, name FROM applications WHERE id = ?', [app]);
    if (!rows.length) {
      console.error(`no application ${app} in ${new URL(config.databaseUrl).pathname.slice(1)}`);
      return 1;
    }
    console.log(`> adding ${users.toLocaleString('en')} users to "${rows[0].name}" (${app}) in ${new URL(config.databaseUrl).pathname.slice(1)}`);
    await seedUsers(pool, { applicationId: app, count: users, globalIdKey: config.secrets.globalIdKey, relayDomain: config.relayDomain, fresh: false });
    return 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
