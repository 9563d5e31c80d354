import { DataSource } from 'typeorm';
import { randomAlnum, randomId } from '@app/common';

const GLOBAL_ID_SPACE = 26 * 26 * 10_000;
/** Where this test file's seeded Global IDs start: random, so files differ; consecutive after that, so calls within a file never collide. */
let seededGlobalIds = Math.floor(Math.random() * (GLOBAL_ID_SPACE / 2));

/** The next seeded Global ID (`XX1234`), unique within this process. */
function nextSeededGlobalId(): string {
  const n = seededGlobalIds++ % GLOBAL_ID_SPACE;
  const letters = Math.floor(n / 10_000);
  return `${String.fromCharCode(65 + Math.floor(letters / 26))}${String.fromCharCode(65 + (letters % 26))}${String(n % 10_000).padStart(4, '0')}`;
}

/**
 * Inserts `count` users connected to one application straight into MySQL
 * (bulk, for burst and fault tests; real sign-ins would spend minutes on
 * argon2). Returns the connection ids.
 */
export async function seedConnections(db: DataSource, applicationId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += 500) {
    const n = Math.min(500, count - offset);
    const users = Array.from({ length: n }, (_, i) => {
      const gid = nextSeededGlobalId();
      return { gid, name: `Seeded ${offset + i}`, relay: randomAlnum(6), id: randomId('c') };
    });
    const first = await db.query<{ insertId: number }>(
      `INSERT INTO users (global_id, name, region, password_hash) VALUES ${users.map(() => "(?, ?, 'Germany', 'x')").join(',')}`,
      users.flatMap((u) => [u.gid, u.name]),
    );
    await db.query(
      `INSERT INTO relay_addresses (local_part) VALUES ${users.map(() => '(?)').join(',')}`,
      users.map((u) => u.relay),
    );
    await db.query(
      `INSERT INTO connections (id, application_id, user_id, user_global_id, user_name, relay_local, shared_email, scope) VALUES ${users
        .map(() => "(?, ?, ?, ?, ?, ?, ?, 'email profile')")
        .join(',')}`,
      users.flatMap((u, i) => [u.id, applicationId, Number(first.insertId) + i, u.gid, u.name, u.relay, `${u.relay}@loginsign.com`]),
    );
    ids.push(...users.map((u) => u.id));
  }
  await db.query(`INSERT INTO application_user_counts (application_id, active) VALUES (?, ?) ON DUPLICATE KEY UPDATE active = active + VALUES(active)`, [applicationId, count]);
  return ids;
}
