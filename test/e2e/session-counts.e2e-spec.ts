import { expect } from '@jest/globals';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';
import { createRedis, REDIS } from '@app/common';
import {
  AccountCenterService,
  ApplicationUsersService,
  batchKey,
  pendingKey,
  SESSION_COUNT_PARTITIONS,
  SessionCounts,
  SessionCountsRepository,
  sessionCountPartition,
} from '@app/connections';
import { dataSourceOptions } from '@app/database';
import { CodeGrant, TokensService } from '@app/oauth';
import { signUpUser, TestUser } from '../support/accounts';
import { developerRequest, PortalUser, readJson, UsersPage } from '../support/developer';
import { getPage, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';
import { seedConnections } from '../support/seed';
import { eventually } from '../support/eventually';
import { startWorker } from '../support/worker';

/**
 * Session counts are written behind: the code exchange writes one MySQL
 * statement (the token) and counts the session in Redis; the worker's flusher
 * (SessionCounts.flushAll, run here step by step) applies the counts to MySQL
 * once, whatever step a crash interrupts; the developer sees them at once.
 */
describe('session counts', () => {
  let t: TestApp;
  let app: ClientApp;
  let db: DataSource;
  let counts: SessionCounts;
  let redis: Redis;

  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
    db = t.app.get(DataSource);
    counts = t.app.get(SessionCounts);
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t?.close());

  /** A code for the user (consent on the first one) and its verifier. */
  const code = (user: TestUser) => codeFor(t.baseUrl, app, user);
  const exchange = (c: { code: string; verifier: string }) => exchangeCode(t.baseUrl, app, { code: c.code, code_verifier: c.verifier });

  /** Signs the user in once; the connection id. */
  async function signIn(user: TestUser): Promise<string> {
    const { res, body } = await exchange(await code(user));
    expect(res.status).toBe(200);
    return (await currentUser(t.baseUrl, body.access_token)).body.id;
  }

  /** The connection as the developer API shows it (list and detail agree). */
  async function viewed(connectionId: string): Promise<PortalUser> {
    const page = await readJson<UsersPage>(await developerRequest(t.baseUrl, app.developerCookie, 'GET', `/api/developer/applications/${app.id}/users?limit=100`));
    const listed = page.users.find((u) => u.id === connectionId)!;
    // The detail (the portal's user page, a PATCH's answer) agrees.
    const detail = await t.app.get(ApplicationUsersService).get(app.id, connectionId);
    expect({ sessions: detail.sessions, lastSession: detail.lastSession }).toEqual({ sessions: listed.sessions, lastSession: listed.lastSession });
    return listed;
  }

  async function inMysql(connectionId: string): Promise<{ sessions: number; last: Date | null }> {
    const [row] = await db.query<{ sessions: number | string; last_session_at: Date | null }[]>('SELECT sessions, last_session_at FROM connections WHERE id = ?', [connectionId]);
    return { sessions: Number(row.sessions), last: row.last_session_at };
  }

  const keysLeft = async () => redis.exists(...Array.from({ length: SESSION_COUNT_PARTITIONS }, (_, p) => [pendingKey(p), batchKey(p)]).flat());

  it('counts N concurrent exchanges exactly: at once through the developer API and the account center, in MySQL after a flush', async () => {
    const [ada, bob] = [await signUpUser(t.baseUrl), await signUpUser(t.baseUrl)];
    const adaConnection = await signIn(ada);
    // Codes first (the authorize step), then every exchange at once.
    const codes = [...(await Promise.all(Array.from({ length: 6 }, () => code(ada)))), ...(await Promise.all(Array.from({ length: 4 }, () => code(bob))))];
    const results = await Promise.all(codes.map(exchange));
    expect(results.map((r) => r.res.status)).toEqual(codes.map(() => 200));
    const bobConnection = (await currentUser(t.baseUrl, results[6].body.access_token)).body.id;

    expect(await inMysql(adaConnection)).toEqual({ sessions: 0, last: null });
    const [adaView, bobView] = [await viewed(adaConnection), await viewed(bobConnection)];
    expect([adaView.sessions, bobView.sessions]).toEqual([7, 4]);
    expect(adaView.lastSession).not.toBeNull();
    const [{ user_id: adaId }] = await db.query<{ user_id: string }[]>('SELECT user_id FROM connections WHERE id = ?', [adaConnection]);
    const [center] = await t.app.get(AccountCenterService).listApps(Number(adaId));
    expect(center.lastUsed?.toISOString().replace(/\.\d{3}Z$/, 'Z')).toBe(adaView.lastSession);

    expect(await counts.flushAll()).toBe(11);
    expect(await keysLeft()).toBe(0);
    const [adaRow, bobRow] = [await inMysql(adaConnection), await inMysql(bobConnection)];
    expect([adaRow.sessions, bobRow.sessions]).toEqual([7, 4]);
    expect(adaRow.last!.toISOString().replace(/\.\d{3}Z$/, 'Z')).toBe(adaView.lastSession);
    // Nothing is counted twice once MySQL has it.
    expect([(await viewed(adaConnection)).sessions, (await viewed(bobConnection)).sessions]).toEqual([7, 4]);
  });

  it('a crash between "batch moved" and "MySQL applied" loses nothing: the next round applies the leftover batch, then what came since', async () => {
    const [ada, bob] = [await signUpUser(t.baseUrl), await signUpUser(t.baseUrl)];
    const connection = await signIn(ada);
    const other = await signIn(bob);
    const p = sessionCountPartition(connection);
    const batch = (await counts.takeBatch(p))!; // ...and the flusher dies here.
    expect(batch.entries).toContainEqual({ connectionId: connection, sessions: 1, lastAt: expect.any(Number) });
    expect(await signIn(ada)).toBe(connection); // counted in the new pending hash
    expect((await viewed(connection)).sessions).toBe(2);
    expect((await inMysql(connection)).sessions).toBe(0);

    await counts.flushPartition(p);
    await counts.flushAll();
    expect(await keysLeft()).toBe(0);
    expect((await inMysql(connection)).sessions).toBe(2);
    expect((await inMysql(other)).sessions).toBe(1);
    expect(await db.query('SELECT id FROM session_count_batches WHERE id = ?', [batch.id])).toHaveLength(1);
    expect((await viewed(connection)).sessions).toBe(2);
  });

  it('a crash between "MySQL applied" and "batch key deleted" counts nothing twice: the leftover is only deleted', async () => {
    const user = await signUpUser(t.baseUrl);
    const connection = await signIn(user);
    const p = sessionCountPartition(connection);
    const batch = (await counts.takeBatch(p))!;
    expect(await counts.applyBatch(batch)).toBe(true); // ...and the flusher dies here.
    expect((await inMysql(connection)).sessions).toBe(1);
    expect(await redis.exists(batchKey(p))).toBe(1);

    expect(await signIn(user)).toBe(connection);
    expect(await counts.flushPartition(p)).toBe(1); // the leftover refused by its id, then the new session
    expect(await counts.applyBatch(batch)).toBe(false);
    expect(await keysLeft()).toBe(0);
    expect((await inMysql(connection)).sessions).toBe(2);
    expect((await viewed(connection)).sessions).toBe(2);
  });

  it('a whole flush between the MySQL read and the Redis read is counted once, not lost: the read is repeated', async () => {
    const user = await signUpUser(t.baseUrl);
    const connection = await signIn(user);
    expect(await signIn(user)).toBe(connection);
    await counts.flushAll();
    expect(await signIn(user)).toBe(connection); // 2 in MySQL, 1 pending
    let reads = 0;
    const { result, pending } = await counts.readWithPending(
      async () => {
        reads++;
        const row = await inMysql(connection);
        // The worker's flush runs between this read and the Redis one (the first time only).
        if (reads === 1) expect(await counts.flushPartition(sessionCountPartition(connection))).toBe(1);
        return row;
      },
      () => [connection],
    );
    expect(reads).toBe(2);
    expect(result.sessions + (pending.get(connection)?.sessions ?? 0)).toBe(3);
    // Through the developer API and the account center, with a flush on every MySQL read's heels.
    expect(await signIn(user)).toBe(connection);
    let stop = false;
    const flusher = (async () => {
      while (!stop) await counts.flushAll();
    })();
    try {
      for (let i = 0; i < 20; i++) expect((await viewed(connection)).sessions).toBe(4);
    } finally {
      stop = true;
      await flusher;
    }
  });

  it('while Redis fails, a read of counts shows the MySQL figures, read once', async () => {
    const user = await signUpUser(t.baseUrl);
    const connection = await signIn(user);
    await counts.flushAll();
    expect(await signIn(user)).toBe(connection); // 1 in MySQL, 1 pending
    const scripts = redis as unknown as Record<'sessionCountState' | 'sessionCountPeek', () => Promise<unknown>>;
    for (const failing of ['sessionCountState', 'sessionCountPeek'] as const) {
      const refused = jest.spyOn(scripts, failing).mockRejectedValueOnce(new Error('Connection is closed.'));
      let reads = 0;
      const { result, pending } = await counts.readWithPending(
        () => {
          reads++;
          return inMysql(connection);
        },
        () => [connection],
      );
      expect(refused).toHaveBeenCalled();
      refused.mockRestore();
      expect({ reads, mysql: result.sessions, pending: pending.size }).toEqual({ reads: 1, mysql: 1, pending: 0 });
    }
    expect((await viewed(connection)).sessions).toBe(2);
    await counts.flushAll();
  });

  it('two flushers at once (own Redis clients and MySQL pools) apply every batch once', async () => {
    const otherDb = await new DataSource(dataSourceOptions(t.config)).initialize();
    const otherRedis = createRedis(t.config);
    try {
      const second = new SessionCounts(otherRedis, new SessionCountsRepository(otherDb));
      const ids = await seedConnections(db, app.id, 40);
      const expected = new Map(ids.map((id) => [id, 0]));
      // The same batch applied by both: the primary key on its id lets one through.
      await Promise.all(ids.slice(0, 5).map((id) => counts.record(id)));
      for (const id of ids.slice(0, 5)) expected.set(id, 1);
      const p = sessionCountPartition(ids[0]);
      const batch = (await counts.takeBatch(p))!;
      expect((await Promise.all([counts.applyBatch(batch), second.applyBatch(batch)])).sort()).toEqual([false, true]);
      await Promise.all([counts.dropBatch(p, batch.id), second.dropBatch(p, batch.id)]);

      // Sessions recorded through both while both flush in a loop.
      let recording = true;
      const flushing = [counts, second].map(async (c) => {
        while (recording) await c.flushAll();
      });
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          ids.map((id, i) => {
            expected.set(id, expected.get(id)! + 1);
            return (i % 2 ? counts : second).record(id);
          }),
        );
      }
      recording = false;
      await Promise.all(flushing);
      await Promise.all([counts.flushAll(), second.flushAll()]);
      expect(await keysLeft()).toBe(0);
      const rows = await db.query<{ id: string; sessions: number | string }[]>(`SELECT id, sessions FROM connections WHERE id IN (${ids.map(() => '?').join(',')})`, ids);
      expect(new Map(rows.map((r) => [r.id, Number(r.sessions)]))).toEqual(expected);
    } finally {
      otherRedis.disconnect();
      await otherDb.destroy();
    }
  });

  it('a blocked or disconnected connection gets invalid_grant and nothing is written', async () => {
    // Blocked by the developer between the code and its exchange.
    const ada = await signUpUser(t.baseUrl);
    const adaCode = await code(ada);
    const [{ id: blocked }] = await db.query<{ id: string }[]>('SELECT c.id FROM connections c JOIN users u ON u.id = c.user_id WHERE u.global_id = ? AND c.application_id = ?', [
      ada.globalId,
      app.id,
    ]);
    const patched = await developerRequest(t.baseUrl, app.developerCookie, 'PATCH', `/api/developer/applications/${app.id}/users/${blocked}`, { blocked: true });
    expect(patched.status).toBe(200);
    const refused = await exchange(adaCode);
    expect(refused.res.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_grant', error_description: 'The user is no longer connected to this application.' });

    // Disconnected by the user ("Stop using LoginSign with this app") after one sign-in.
    const bob = await signUpUser(t.baseUrl);
    const disconnected = await signIn(bob);
    const bobCode = await code(bob);
    const path = `/account/apps/${disconnected}`;
    const page = await getPage(t.baseUrl, path, bob.jar);
    expect((await postForm(t.baseUrl, `${path}/revoke`, { _csrf: page.csrf! }, bob.jar)).status).toBe(303);
    const refusedToo = await exchange(bobCode);
    expect(refusedToo.res.status).toBe(400);
    expect(refusedToo.body.error).toBe('invalid_grant');

    const tokens = async (id: string) => Number((await db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM access_tokens WHERE connection_id = ?', [id]))[0].n);
    expect([await tokens(blocked), await tokens(disconnected)]).toEqual([0, 1]);
    const pending = await counts.pending([blocked, disconnected]);
    expect(pending.get(blocked)).toBeUndefined();
    expect(pending.get(disconnected)?.sessions).toBe(1);
    await counts.flushAll();
    expect([(await inMysql(blocked)).sessions, (await inMysql(disconnected)).sessions]).toEqual([0, 1]);
  });

  it('the exchange is one autocommit MySQL statement; while Redis fails the session is counted in MySQL directly', async () => {
    const user = await signUpUser(t.baseUrl);
    await signIn(user); // consent, and the signing key loaded
    const statements = jest.spyOn(MysqlQueryRunner.prototype, 'query');
    try {
      const c = await code(user);
      statements.mockClear();
      const { res } = await exchange(c);
      expect(res.status).toBe(200);
      const writes = statements.mock.calls.map(([sql]) => String(sql).trim().replace(/\s+/g, ' ')).filter((sql) => !/^SELECT\b/i.test(sql));
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(/^INSERT INTO access_tokens .* SELECT .* FROM connections c WHERE/);

      // The service alone: exactly one statement, reads included.
      const [{ id: connectionId }] = await db.query<{ id: string }[]>(
        'SELECT c.id FROM connections c JOIN users u ON u.id = c.user_id WHERE u.global_id = ? AND c.application_id = ?',
        [user.globalId, app.id],
      );
      const grant: CodeGrant = { grantId: 'g'.repeat(22), connectionId, applicationId: app.id, scope: 'profile', redirectUri: app.redirectUri, authTime: 0 };
      statements.mockClear();
      await t.app.get(TokensService).issueForGrant(grant, app.clientId, ['profile']);
      expect(statements).toHaveBeenCalledTimes(1);

      // Redis refuses the count: the old UPDATE counts it, nothing is lost.
      const before = (await viewed(connectionId)).sessions;
      jest.spyOn(counts, 'record').mockRejectedValueOnce(new Error('Connection is closed.'));
      statements.mockClear();
      expect((await exchange(await code(user))).res.status).toBe(200);
      expect(statements.mock.calls.some(([sql]) => /^UPDATE connections SET sessions = sessions \+ 1/.test(String(sql).trim()))).toBe(true);
      expect((await viewed(connectionId)).sessions).toBe(before + 1);
    } finally {
      statements.mockRestore();
    }
    await counts.flushAll();
  });
  it('the worker process applies a leftover batch at start, new counts within its rounds, and what is pending when it stops', async () => {
    const [ada, bob] = [await signUpUser(t.baseUrl), await signUpUser(t.baseUrl)];
    const leftover = await signIn(ada);
    expect(await counts.takeBatch(sessionCountPartition(leftover))).not.toBeNull(); // a flusher died after moving it
    const worker = await startWorker(t.env);
    try {
      await eventually(async () => (await inMysql(leftover)).sessions === 1, 'the leftover batch applied at start');
      const later = await signIn(bob);
      await eventually(async () => (await inMysql(later)).sessions === 1, 'a new session flushed by the running worker');
      await eventually(async () => (await keysLeft()) === 0, 'the batch keys deleted');
    } finally {
      // Counted just before SIGTERM: the worker's last round applies it on the way out.
      await signIn(ada);
      await worker.stop();
    }
    expect((await inMysql(leftover)).sessions).toBe(2);
    expect(await keysLeft()).toBe(0);
    expect(worker.output()).not.toContain('flush failed');
  });
});
