// Scale-out: two API processes (as two machines behind a load balancer: one
// PUBLIC_URL, one database, one Redis prefix) and two worker processes. Sign-ups,
// sign-ins and account closures go through both APIs at once; nothing may be
// allocated twice, counted twice or lost.
import { execFileSync } from 'node:child_process';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { batchKey, pendingKey, SESSION_COUNT_PARTITIONS } from '@app/connections';
import { loadConfig } from '@app/config';
import { dataSourceOptions, dropDatabase, migrate } from '@app/database';
import { testEnv } from '../support/harness';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { startWorker, WorkerProcess } from '../support/worker';
import { payloadOf, Receiver, startReceiver } from '../support/receiver';
import { codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';
import { signUpUser, TestUser } from '../support/accounts';
import { Row } from '../support/db';
import { eventually } from '../support/eventually';

const FAST = { WEBHOOK_BACKOFF_MS: '200', OUTBOX_RELAY_INTERVAL_MS: '100', OUTBOX_LOST_AFTER_SECONDS: '2', WORKER_LOCK_MS: '2000', WEBHOOK_TIMEOUT_MS: '3000' };
const USERS = 40;
const SIGNINS_PER_USER = 3;

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let i = next++; i < tasks.length; i = next++) results[i] = await tasks[i]();
    }),
  );
  return results;
}

describe('scale-out: 2 API processes + 2 worker processes on one MySQL and one Redis', () => {
  let env: Record<string, string>;
  let apis: ApiProcess[] = [];
  let workers: WorkerProcess[] = [];
  let receiver: Receiver;
  let db: DataSource;

  beforeAll(async () => {
    const ports = [await freePort(), await freePort()];
    // One public URL for both (tokens carry it as their issuer), as behind a load balancer.
    env = testEnv({ ...FAST, PUBLIC_URL: `http://127.0.0.1:${ports[0]}` });
    const config = loadConfig(env);
    await migrate(config);
    db = await new DataSource(dataSourceOptions(config)).initialize();
    receiver = await startReceiver();
    apis = await Promise.all(ports.map((port) => startApiProcess(env, port)));
    workers = await Promise.all([startWorker(env), startWorker(env)]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop().catch(() => undefined)));
    await receiver?.close();
    await db?.destroy();
    if (env) await dropDatabase(env.DATABASE_URL);
  });

  it('allocates, counts and delivers everything exactly once across processes', async () => {
    const [a, b] = apis.map((p) => p.baseUrl);
    const via = (i: number) => (i % 2 === 0 ? a : b);

    // The application is created on A, its webhook configured on B.
    const app = await createClientApp(a);
    const patched = await fetch(`${b}/api/developer/applications/${app.id}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ webhookUrl: receiver.url }),
    });
    expect(patched.status).toBe(200);

    // 1. Sign-ups through both APIs at once.
    const users: TestUser[] = await pool(
      8,
      Array.from({ length: USERS }, (_, i) => () => signUpUser(via(i))),
    );
    const globalIds = users.map((u) => u.globalId);
    expect(new Set(globalIds).size).toBe(USERS);

    // 2. Sign-ins (authorize -> token -> /api/user), each user several times, alternating APIs,
    //    the steps of one sign-in spread over both. The first one gives consent (relay address).
    const exchanges = new Map<string, number>(); // connection id -> successful token exchanges
    const relayOf = new Map<string, string>(); // connection id -> relay address
    const signIn = async (user: TestUser, n: number) => {
      const { code, verifier } = await codeFor(via(n), app, user);
      const { res, body } = await exchangeCode(via(n + 1), app, { code, code_verifier: verifier });
      expect(res.status).toBe(200);
      const me = await currentUser(via(n + user.globalId.length), body.access_token);
      expect(me.res.status).toBe(200);
      exchanges.set(me.body.id, (exchanges.get(me.body.id) ?? 0) + 1);
      const previous = relayOf.get(me.body.id);
      if (previous) expect(me.body.email).toBe(previous);
      relayOf.set(me.body.id, me.body.email!);
    };
    // First sign-ins of all users concurrently (first consents race across processes), then the returning ones.
    await pool(
      8,
      users.map((u, i) => () => signIn(u, i)),
    );
    await pool(
      8,
      users.flatMap((u, i) => Array.from({ length: SIGNINS_PER_USER - 1 }, (_, k) => () => signIn(u, i + k + 1))),
    );
    expect(exchanges.size).toBe(USERS);
    expect(new Set(relayOf.values()).size).toBe(USERS);

    // Sessions are counted in Redis at the exchange: exact at once through the developer API (from either API)...
    const listed = await fetch(`${b}/api/developer/applications/${app.id}/users?limit=100`, { headers: { cookie: app.developerCookie } });
    const { users: views } = (await listed.json()) as { users: { id: string; sessions: number }[] };
    expect(new Map(views.map((v) => [v.id, v.sessions]))).toEqual(exchanges);
    // ...and in MySQL once both workers' flushers have moved every pending count (each batch applied once).
    const redis = new Redis(env.REDIS_URL, { keyPrefix: `${env.REDIS_PREFIX}:` });
    const partitions = Array.from({ length: SESSION_COUNT_PARTITIONS }, (_, p) => p);
    await eventually(async () => (await redis.exists(...partitions.flatMap((p) => [pendingKey(p), batchKey(p)]))) === 0, 'session counts flushed');
    redis.disconnect();
    const rows = await db.query<{ id: string; sessions: number; relay_local: string; user_global_id: string }[]>(
      'SELECT id, sessions, relay_local, user_global_id FROM connections WHERE application_id = ?',
      [app.id],
    );
    expect(rows).toHaveLength(USERS);
    expect(new Set(rows.map((r) => r.relay_local)).size).toBe(USERS);
    expect(new Set(rows.map((r) => r.user_global_id))).toEqual(new Set(globalIds));
    for (const row of rows) expect({ id: row.id, sessions: Number(row.sessions) }).toEqual({ id: row.id, sessions: exchanges.get(row.id) });
    const [{ dupes }] = await db.query<Row[]>('SELECT COUNT(*) - COUNT(DISTINCT global_id) AS dupes FROM users');
    expect(Number(dupes)).toBe(0);

    // 3. Account closures of half the users, through both APIs at once.
    const closed = rows.slice(0, USERS / 2).map((r) => r.id);
    const statuses = await pool(
      8,
      closed.map((id, i) => async () => {
        const res = await fetch(`${via(i)}/api/developer/applications/${app.id}/users/${id}`, { method: 'DELETE', headers: { cookie: app.developerCookie } });
        return res.status;
      }),
    );
    expect(statuses).toEqual(closed.map(() => 204));

    // 4. Every event (USERS user_connected + the closures) delivered once, none lost.
    const expected = USERS + closed.length;
    await eventually(async () => {
      const [{ delivered }] = await db.query<Row[]>(`SELECT COUNT(*) AS delivered FROM webhook_events WHERE application_id = ? AND status = 'delivered'`, [app.id]);
      return Number(delivered) === expected;
    }, `${expected} delivered webhook events`);
    const events = await db.query<{ id: string }[]>('SELECT id FROM webhook_events WHERE application_id = ?', [app.id]);
    expect(events).toHaveLength(expected);
    await receiver.waitFor((r) => new Set(r.map((h) => h.headers['webhook-id'])).size >= expected);
    const received = new Set(receiver.received.filter((h) => (h.status ?? 500) < 300).map((h) => String(h.headers['webhook-id'])));
    expect(received).toEqual(new Set(events.map((e) => e.id)));
    const payloads = receiver.received.map((h) => payloadOf(h));
    expect(new Set(payloads.filter((p) => p.type === 'user_account_deleted').map((p) => p.data.connectionId))).toEqual(new Set(closed));
    expect(new Set(payloads.filter((p) => p.type === 'user_connected').map((p) => p.data.connectionId))).toEqual(new Set(rows.map((r) => r.id)));

    // Both worker processes are alive (neither crashed under the shared queues).
    for (const w of workers) expect(w.child.exitCode).toBeNull();
  }, 240_000);
});

describe('API_PROCESSES=2: one node:cluster primary, two API processes on one port', () => {
  const childrenOf = (pid: number): number[] => {
    try {
      return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' })
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter(Boolean);
    } catch {
      return []; // ps exits 1 when there is none
    }
  };
  let env: Record<string, string>;
  let api: ApiProcess | undefined;

  afterAll(async () => {
    await api?.stop('SIGKILL').catch(() => undefined);
    if (env) await dropDatabase(env.DATABASE_URL);
  });

  it('serves from both, replaces a crashed one, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    env = testEnv({ PUBLIC_URL: `http://127.0.0.1:${port}` });
    await migrate(loadConfig(env));
    api = await startApiProcess(env, port, 2);
    const primary = api.child.pid!;
    await eventually(() => childrenOf(primary).length === 2, 'two API processes', 90_000);
    const [first, second] = childrenOf(primary);

    // Both answer: wait until both listen (the primary hands connections out round-robin).
    await eventually(
      async () => {
        const results = await Promise.all(Array.from({ length: 6 }, () => fetch(`${api!.baseUrl}/health/ready`).then((r) => r.status)));
        return results.every((s) => s === 200);
      },
      'both processes ready',
      30_000,
    );

    // A crashed process is replaced; the port keeps answering.
    process.kill(first, 'SIGKILL');
    await eventually(
      () => {
        const now = childrenOf(primary);
        return now.length === 2 && !now.includes(first) && now.includes(second);
      },
      'a replacement process',
      30_000,
    );
    await eventually(async () => (await fetch(`${api!.baseUrl}/health/ready`).catch(() => null))?.status === 200, 'the port to answer', 30_000);

    // SIGTERM to the primary stops every child, then the primary itself.
    const children = childrenOf(primary);
    await api.stop('SIGTERM');
    expect(api.child.exitCode).toBe(0);
    for (const pid of children) expect(() => process.kill(pid, 0)).toThrow();
  }, 240_000);
});
