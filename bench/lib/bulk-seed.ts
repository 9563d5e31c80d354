// Bulk seeding of N users connected to one application, straight into MySQL
// (bench:users-list and `npm run seed:large`). Rows go in primary-key order with
// multi-row INSERTs; the secondary indexes are dropped first and rebuilt (sorted)
// afterwards, then checked against the migrated schema.
import { Pool, RowDataPacket } from 'mysql2/promise';
import { randomAlnum } from '@app/common';
import { formatGlobalId, GlobalIdPermutation } from '../../libs/identity/src/global-id/global-id-permutation';

export const ROWS_PER_INSERT = 5_000;

const FIRST = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Amelia',
  'Oliver',
  'Sophia',
  'Elijah',
  'Mia',
  'Lucas',
  'Hannah',
  'Mateo',
  'Lena',
  'Jonas',
  'Chloe',
  'Hugo',
  'Yuki',
  'Haruto',
  'Aisha',
  'Omar',
  'Fatima',
  'Ali',
  'Priya',
  'Arjun',
  'Sofia',
  'Diego',
  'Valentina',
  'Santiago',
  'Ingrid',
  'Lars',
  'Zofia',
  'Jakub',
  'Chiara',
  'Marco',
  'Ana',
  'Joao',
  'Elif',
  'Emre',
  'Nia',
  'Kwame',
  'Mei',
  'Wei',
  'Sara',
  'David',
  'Nora',
  'Finn',
  'Ida',
  'Emil',
  'Alice',
  'Louis',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Garcia',
  'Miller',
  'Davis',
  'Martinez',
  'Lopez',
  'Wilson',
  'Anderson',
  'Taylor',
  'Thomas',
  'Moore',
  'Martin',
  'Lee',
  'Thompson',
  'White',
  'Harris',
  'Clark',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Green',
  'Adams',
  'Nelson',
  'Baker',
  'Hall',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Carter',
  'Roberts',
  'Mueller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Weber',
  'Meyer',
  'Wagner',
  'Becker',
  'Schulz',
  'Hoffmann',
  'Rossi',
  'Russo',
  'Ferrari',
  'Esposito',
  'Bianchi',
  'Romano',
  'Dubois',
  'Durand',
  'Leroy',
  'Moreau',
  'Simon',
  'Laurent',
  'Lefebvre',
  'Michel',
  'Kowalski',
  'Nowak',
  'Wisniewski',
  'Tanaka',
  'Suzuki',
  'Takahashi',
  'Watanabe',
  'Ito',
  'Kim',
  'Park',
  'Choi',
  'Jung',
  'Kang',
  'Cho',
  'Singh',
  'Kumar',
  'Sharma',
  'Patel',
  'Gupta',
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Pereira',
  'Costa',
  'Jensen',
  'Nielsen',
  'Hansen',
  'Larsen',
  'Andersen',
  'Yilmaz',
  'Kaya',
  'Demir',
  'Sahin',
];
const REGIONS = ['Germany', 'United States', 'France', 'United Kingdom', 'Japan', 'Brazil', 'India', 'Italy', 'Spain', 'Poland', 'Canada', 'Korea'];

/** Deterministic PRNG (mulberry32), so every run seeds the same data. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A unique relay local part per n (1,000,000,007 is coprime to 36^6). */
const relayLocalOf = (n: number) => (((n + 1) * 1_000_000_007) % 36 ** 6).toString(36).padStart(6, '0');

const sqlTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);
const fmt = (n: number) => Math.round(n).toLocaleString('en');

type Bucket = 'active' | 'inactive' | 'blocked';

/** A row of `SHOW CREATE TABLE`. */
type CreateTableRow = { 'Create Table': string } & RowDataPacket;

export interface SeedOptions {
  applicationId: string;
  count: number;
  /** GLOBAL_ID_KEY of the API (Global IDs are the sequence numbers through its permutation). */
  globalIdKey: Buffer;
  relayDomain: string;
  /**
   * true (bench): an empty, freshly migrated database (user ids from 1, the sequence partitions untouched).
   * false (seed:large): appended after what is there (ids after MAX(id), Global IDs from
   * the sequence, relay addresses and emails that do not collide with existing ones).
   */
  fresh: boolean;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

interface TableLoad {
  table: string;
  columns: string;
  /** The order of i in which rows are written: the table's primary key order. */
  order: Iterable<number>;
  row: (i: number) => unknown[];
}

/**
 * Seeds `count` users (one verified email each, a relay address, a connection to
 * the application) and returns the per-status counts. The pool must have
 * foreign_key_checks = 0 on its connections (the indexes foreign keys use are
 * dropped while loading).
 */
export async function seedUsers(pool: Pool, o: SeedOptions): Promise<Record<Bucket, number>> {
  const log = o.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const USERS = o.count;
  let firstId = 1;
  // Sequence numbers from the partitions' unused ranges, in order; each partition then starts past what was taken.
  const [parts] = await pool.query<({ id: number; next: number; end: number } & RowDataPacket)[]>(
    'SELECT id, next_value AS next, end_value AS end FROM global_id_sequence ORDER BY id',
  );
  const sequence = new Array<number>(USERS);
  const taken = new Map<number, number>();
  for (let i = 0, p = 0, n = parts.length ? Number(parts[0].next) : 0; i < USERS; i++, n++) {
    while (p < parts.length && n >= Number(parts[p].end)) n = ++p < parts.length ? Number(parts[p].next) : 0;
    if (p >= parts.length) throw new Error('global_id_sequence has too few numbers left for this seed');
    sequence[i] = n;
    taken.set(parts[p].id, n + 1);
  }
  const existingRelays = new Set<string>();
  if (!o.fresh) {
    const [[{ maxId }]] = await pool.query<({ maxId: number } & RowDataPacket)[]>('SELECT COALESCE(MAX(id), 0) AS maxId FROM users');
    firstId = Number(maxId) + 1;
    const [relays] = await pool.query<({ local_part: string } & RowDataPacket)[]>('SELECT local_part FROM relay_addresses');
    for (const r of relays) existingRelays.add(r.local_part);
  }
  const permutation = new GlobalIdPermutation(o.globalIdKey);
  // Relay addresses: by user id (so later runs continue the series), skipping any taken one.
  const relays = new Array<string>(USERS);
  let spare = firstId + USERS;
  for (let i = 0; i < USERS; i++) {
    let local = relayLocalOf(firstId + i - 1);
    while (existingRelays.has(local)) local = relayLocalOf(spare++ + 2_000_000_000);
    relays[i] = local;
  }
  const SPAN_MS = 3 * 365 * 86_400_000; // joined over the last three years
  const NOW_MS = Date.now();
  const START_MS = NOW_MS - SPAN_MS - 86_400_000;

  /** Everything about user i (id firstId + i), a pure function of i so each table can be written in its own key order. */
  const person = (i: number) => {
    const rand = prng((firstId + i - 1) * 7919 + 17);
    const first = FIRST[Math.floor(rand() * FIRST.length)];
    const last = LAST[Math.floor(rand() * LAST.length)];
    const joined = START_MS + Math.floor(((i + rand()) / USERS) * SPAN_MS); // user i joined after user i - 1
    const id = firstId + i;
    const local = relays[i];
    const email = `${first}.${last}.${id}@example.com`.toLowerCase();
    const share = rand();
    const blocked = rand() < 0.02;
    const active = rand() < 0.95;
    const sessions = Math.floor(rand() * 200);
    const bucket: Bucket = blocked ? 'blocked' : active ? 'active' : 'inactive';
    return {
      id,
      globalId: formatGlobalId(permutation.permute(sequence[i])),
      name: `${first} ${last}`,
      region: REGIONS[i % REGIONS.length],
      email,
      local,
      joined,
      // 70% hide their email (relay address), 20% share their own, 10% share nothing.
      sharedEmail: share < 0.7 ? `${local}@${o.relayDomain}` : share < 0.9 ? email : null,
      isForwarding: rand() < 0.95,
      emailMuted: rand() < 0.03,
      blocked,
      active,
      sessions,
      lastSession: sessions ? joined + Math.floor(rand() * (NOW_MS - joined)) : null,
      bucket,
    };
  };
  const ascending = function* () {
    for (let i = 0; i < USERS; i++) yield i;
  };
  /** The i's sorted by a key of theirs (for tables whose primary key is random). */
  const sortedBy = (key: (i: number) => string) => {
    const keys = Array.from({ length: USERS }, (_, i) => key(i));
    return Array.from({ length: USERS }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : 1));
  };

  const bulkLoad = async (spec: TableLoad) => {
    const t0 = Date.now();
    const [[{ 'Create Table': ddl }]] = await pool.query<CreateTableRow[]>(`SHOW CREATE TABLE ${spec.table}`);
    const keys = [...ddl.matchAll(/^\s*((?:UNIQUE )?KEY `(\w+)` \(.*\)),?$/gm)].map((m) => ({ definition: m[1], name: m[2] }));
    if (keys.length) await pool.query(`ALTER TABLE ${spec.table} ${keys.map((k) => `DROP KEY ${k.name}`).join(', ')}`);
    let rows: unknown[][] = [];
    let done = 0;
    const flush = async () => {
      await pool.query(`INSERT INTO ${spec.table} (${spec.columns}) VALUES ?`, [rows]);
      done += rows.length;
      rows = [];
      if (done % 100_000 === 0) log(`  ${spec.table}: ${fmt(done)} / ${fmt(USERS)} rows (${Math.floor((done / USERS) * 100)}%), ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    };
    for (const i of spec.order) {
      rows.push(spec.row(i));
      if (rows.length === ROWS_PER_INSERT) await flush();
    }
    if (rows.length) await flush();
    if (keys.length) {
      log(`  ${spec.table}: rebuilding ${keys.length} secondary indexes...`);
      await pool.query(`ALTER TABLE ${spec.table} ${keys.map((k) => `ADD ${k.definition}`).join(', ')}`);
    }
    const [[after]] = await pool.query<CreateTableRow[]>(`SHOW CREATE TABLE ${spec.table}`);
    const schema = (create: string) => create.replace(/ AUTO_INCREMENT=\d+/, '');
    if (schema(after['Create Table']) !== schema(ddl)) throw new Error(`${spec.table}: the rebuilt indexes differ from the migrated schema`);
    log(`  ${spec.table}: ${fmt(done)} rows + ${keys.length} secondary indexes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  };

  const counts: Record<Bucket, number> = { active: 0, inactive: 0, blocked: 0 };
  await bulkLoad({
    table: 'users',
    columns: 'id, global_id, name, region, password_hash, created_at',
    order: ascending(),
    // '!' is no argon2 hash: nobody can log in as these users.
    row: (i) => {
      const p = person(i);
      return [p.id, p.globalId, p.name, p.region, '!', sqlTime(p.joined - 60_000)];
    },
  });
  await bulkLoad({
    table: 'user_emails',
    columns: 'user_id, email, linked, is_primary',
    order: ascending(),
    row: (i) => [firstId + i, person(i).email, 1, 1],
  });
  await bulkLoad({
    table: 'relay_addresses',
    columns: 'local_part, created_at',
    order: sortedBy((i) => relays[i]),
    row: (i) => [relays[i], sqlTime(person(i).joined)],
  });
  const connectionIds = Array.from({ length: USERS }, () => `c_${randomAlnum(20)}`);
  await bulkLoad({
    table: 'connections',
    columns: `id, application_id, user_id, user_global_id, user_name, relay_local, shared_email, scope,
      is_forwarding, email_muted, blocked, active, sessions, last_session_at, joined_at`,
    order: sortedBy((i) => connectionIds[i]),
    row: (i) => {
      const p = person(i);
      counts[p.bucket]++;
      return [
        connectionIds[i],
        o.applicationId,
        p.id,
        p.globalId,
        p.name,
        p.local,
        p.sharedEmail,
        'email profile',
        p.isForwarding,
        p.emailMuted,
        p.blocked,
        p.active,
        p.sessions,
        p.lastSession === null ? null : sqlTime(p.lastSession),
        sqlTime(p.joined),
      ];
    },
  });
  await pool.query(
    `INSERT INTO application_user_counts (application_id, active, inactive, blocked) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE active = active + VALUES(active), inactive = inactive + VALUES(inactive), blocked = blocked + VALUES(blocked)`,
    [o.applicationId, counts.active, counts.inactive, counts.blocked],
  );
  for (const [id, next] of taken) await pool.query('UPDATE global_id_sequence SET next_value = ? WHERE id = ?', [next, id]);
  await pool.query('ANALYZE TABLE users, user_emails, relay_addresses, connections');
  log(`> seeded in ${((Date.now() - started) / 1000).toFixed(0)} s: ${fmt(counts.active)} active, ${fmt(counts.inactive)} inactive, ${fmt(counts.blocked)} blocked`);
  return counts;
}
