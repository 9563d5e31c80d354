import 'reflect-metadata';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AccessChangeSignals, AccessSnapshot, AppError, createRedis, flatRecordBytes, SignalledCache } from '@app/common';
import { AppConfig } from '@app/config';
import { dataSourceOptions, dropDatabase } from '@app/database';
import { testConfig } from '../../../test/support/harness';

describe('AccessChangeSignals (real MariaDB and Redis)', () => {
  let config: AppConfig;
  let db: DataSource;
  let redis: Redis;
  let signals: AccessChangeSignals;
  let user = 0;

  beforeAll(async () => {
    config = await testConfig();
    db = new DataSource(dataSourceOptions(config));
    await db.initialize();
    redis = createRedis(config);
    signals = new AccessChangeSignals(redis, db, config);
  });
  afterAll(async () => {
    redis?.disconnect();
    if (db?.isInitialized) await db.destroy();
    if (config) await dropDatabase(config.databaseUrl);
  });

  /** A user id of its own per test, and the versions a lookup read now would be cached under. */
  async function cachedNow(userId: number) {
    const snapshot = await signals.read(userId, 'app-1');
    return { snapshot, versions: (await signals.versionsFor(snapshot))! };
  }

  it('a change stops a cached lookup from matching before it commits, and caches nothing while in flight', async () => {
    const userId = ++user;
    const { versions } = await cachedNow(userId);
    expect(versions).not.toBeNull();
    expect(AccessChangeSignals.holds(versions, await signals.read(userId, 'app-1'))).toBe(true);

    let inFlight: AccessSnapshot | null = null;
    await db.transaction(async (m) => {
      signals.userChanged(m, userId);
      await m.query('SELECT 1');
      // Not raised yet: raising happens at commit.
      expect(AccessChangeSignals.holds(versions, await signals.read(userId, 'app-1'))).toBe(true);
      // A subscriber registered after ours runs between our raise and the COMMIT.
      db.subscribers.push({
        beforeTransactionCommit: async () => {
          inFlight = await signals.read(userId, 'app-1');
        },
      });
    });
    db.subscribers.pop();
    expect(inFlight!.pending).toBe(true);
    expect(AccessChangeSignals.holds(versions, inFlight!)).toBe(false);
    expect(await signals.versionsFor(inFlight!)).toBeNull();

    const after = await signals.read(userId, 'app-1');
    expect(after.pending).toBe(false);
    expect(AccessChangeSignals.holds(versions, after)).toBe(false);
    expect(after.values[0]).not.toBe(inFlight!.values[0]);
  });

  it('settles a rolled-back change too, and other users keep their versions', async () => {
    const [userId, other] = [++user, ++user];
    const mine = await cachedNow(userId);
    const theirs = await cachedNow(other);
    await expect(
      db.transaction(async (m) => {
        signals.userChanged(m, userId);
        await m.query('SELECT 1');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const now = await signals.read(userId, 'app-1');
    expect(now.pending).toBe(false);
    expect(AccessChangeSignals.holds(mine.versions, now)).toBe(true); // a rollback before commit never raised
    expect(AccessChangeSignals.holds(theirs.versions, await signals.read(other, 'app-1'))).toBe(true);
  });

  it('an application change ends the lookups of every user of that application only', async () => {
    const userId = ++user;
    const inApp = await cachedNow(userId);
    const elsewhere = await signals.read(userId, 'app-2');
    const elsewhereVersions = (await signals.versionsFor(elsewhere))!;
    await signals.around({ applications: ['app-1'] }, async () => {
      expect((await signals.read(userId, 'app-1')).pending).toBe(true);
    });
    expect(AccessChangeSignals.holds(inApp.versions, await signals.read(userId, 'app-1'))).toBe(false);
    expect(AccessChangeSignals.holds(elsewhereVersions, await signals.read(userId, 'app-2'))).toBe(true);
  });

  it('a lost key never makes an old version valid again, and a key raised after the read is not claimed', async () => {
    const userId = ++user;
    const { versions } = await cachedNow(userId);
    await redis.del(`authz:{u:${userId}}`);
    const lost = await signals.read(userId, 'app-1');
    expect(lost.values[0]).toBeNull();
    expect(AccessChangeSignals.holds(versions, lost)).toBe(false);
    // A change raised between that read and the claim: the lookup may predate it.
    await signals.around({ users: [userId] }, () => Promise.resolve());
    expect(await signals.versionsFor(lost)).toBeNull();
    const fresh = await cachedNow(userId);
    expect(fresh.versions.user).not.toBe(versions.user);
  });

  it('a change whose signal cannot be raised does not commit (503)', async () => {
    const broken = createRedis(config);
    const offline = new AccessChangeSignals(broken, db, config);
    broken.disconnect();
    const error = await db
      .transaction(async (m) => {
        offline.userChanged(m, 1);
        await m.query(`INSERT INTO relay_addresses (local_part) VALUES ('nosig1')`);
      })
      .catch((e: unknown) => e);
    db.subscribers.splice(db.subscribers.indexOf(offline), 1);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    expect(await db.query(`SELECT local_part FROM relay_addresses WHERE local_part = 'nosig1'`)).toEqual([]);
  });

  it('refuses a mark outside a transaction', () => {
    expect(() => signals.userChanged(db.manager, 1)).toThrow(/inside the transaction/);
  });
});

describe('SignalledCache', () => {
  const snapshot = (user: string, application: string, pending = false): AccessSnapshot => ({ keys: ['u', 'a'], values: [user, application], pending });

  it('answers only under the same versions, with nothing in flight, before expiry', () => {
    const cache = new SignalledCache<string>(1024 * 1024, (v) => v.length);
    cache.set('t1', 'row', { user: 'u1', application: 'a1' }, Date.now() + 60_000);
    cache.set('t2', 'row', { user: 'u1', application: 'a1' }, Date.now() - 1);
    expect(cache.get('t1', snapshot('u1', 'a1'))).toBe('row');
    expect(cache.get('t1', snapshot('u1', 'a1', true))).toBeUndefined();
    expect(cache.peek('t1')).toBeUndefined(); // dropped once it stopped matching
    cache.set('t1', 'row', { user: 'u1', application: 'a1' }, Date.now() + 60_000);
    expect(cache.get('t1', snapshot('u2', 'a1'))).toBeUndefined();
    cache.set('t1', 'row', { user: 'u1', application: 'a1' }, Date.now() + 60_000);
    expect(cache.get('t1', snapshot('u1', 'a2'))).toBeUndefined();
    expect(cache.get('t2', snapshot('u1', 'a1'))).toBeUndefined();
  });

  it('keeps within its byte budget, dropping the least recently used first', () => {
    const versions = { user: 'u1', application: 'a1' };
    const row = { id: 'c_1', name: 'x'.repeat(400), sessions: 3 };
    const perEntry = 256 + 2 * 'k00'.length + flatRecordBytes(row);
    const cache = new SignalledCache<typeof row>(10 * perEntry, flatRecordBytes);
    for (let i = 0; i < 10; i++) cache.set(`k0${i}`, row, versions, Date.now() + 60_000);
    expect(cache.get('k00', snapshot('u1', 'a1'))).toBe(row); // read: now the most recent
    cache.set('k10', row, versions, Date.now() + 60_000);
    expect(cache.bytes).toBeLessThanOrEqual(10 * perEntry);
    expect(cache.peek('k00')).toBe(row);
    expect(cache.peek('k01')).toBeUndefined(); // the least recently used went
    expect(cache.peek('k10')).toBe(row);
  });
});
