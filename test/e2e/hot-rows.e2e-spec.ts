import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { bullRoot, randomToken, RedisModule, SessionModule } from '@app/common';
import { ConfigModule } from '@app/config';
import { ConnectionsRepository, ConnectionStateService } from '@app/connections';
import { DatabaseModule } from '@app/database';
import { GlobalIdService } from '@app/identity';
import { OAuthModule } from '@app/oauth';
import { seedConnections } from '../support/seed';
import { createApplication, createDeveloper, startServices, TestServices } from '../support/services';

const FORMAT = /^[A-Z]{2}[0-9]{4}$/;
const IDS_PER_WRITER = 10_000;
/** Connection changes per writer, each revoking TOKENS_PER_CONNECTION tokens: 10,000 tokens in all. */
const REVOCATIONS_PER_WRITER = 500;
const TOKENS_PER_CONNECTION = 10;
/** Requests in flight per writer, like a busy API process. */
const IN_FLIGHT = 16;

/** Runs `count` calls of `work(i)` with at most IN_FLIGHT at a time; every result, in order. */
async function inFlight<T>(count: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return results;
}

/**
 * The former hot rows under two concurrent writers (two sets of lib services,
 * each with its own MySQL pool and Redis client, like two API processes):
 * Global ID allocation and token revocation with the per-application counters
 * moving on one application. Nothing may surface as an error (a deadlock
 * included), every id is unique and well-formed, the counters stay exact.
 */
describe('former hot rows under two concurrent writers', () => {
  let services: TestServices;
  let second: INestApplicationContext;
  let writers: INestApplicationContext[];
  let db: DataSource;
  let appId: string;
  let connections: { id: string; userId: number }[];

  beforeAll(async () => {
    services = await startServices(OAuthModule);
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(services.config), DatabaseModule, RedisModule, SessionModule, bullRoot('producer'), OAuthModule],
    }).compile();
    second = await moduleRef.init();
    writers = [services.ctx, second];
    db = services.ctx.get(DataSource);
    appId = await createApplication(services.ctx, await createDeveloper(services.ctx));
    const ids = await seedConnections(db, appId, 2 * REVOCATIONS_PER_WRITER);
    // Live access tokens on every connection.
    const tokenOwners = ids.flatMap((id) => Array<string>(TOKENS_PER_CONNECTION).fill(id));
    for (let offset = 0; offset < tokenOwners.length; offset += 1000) {
      const slice = tokenOwners.slice(offset, offset + 1000);
      await db.query(
        `INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at) VALUES ${slice.map(() => "(?, ?, ?, 'profile', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)").join(', ')}`,
        slice.flatMap((id) => [randomToken(16), id, randomToken(16)]),
      );
    }
    const rows = await db.query<{ id: string; user_id: number | string }[]>('SELECT id, user_id FROM connections WHERE application_id = ? ORDER BY id', [appId]);
    connections = rows.map((r) => ({ id: r.id, userId: Number(r.user_id) }));
  }, 120_000);

  afterAll(async () => {
    await second?.close();
    await services?.close();
  });

  it('allocates 20,000 Global IDs and revokes 10,000 tokens (1,000 connection changes) concurrently: no error, unique ids, exact counters', async () => {
    const [blockedHalf, revokedHalf] = [connections.slice(0, REVOCATIONS_PER_WRITER), connections.slice(REVOCATIONS_PER_WRITER)];
    const [ids] = await Promise.all([
      Promise.all(writers.map((w) => inFlight(IDS_PER_WRITER, () => w.get(GlobalIdService).allocate()))),
      // Writer 1: the developer blocks (counters active -> blocked, tokens revoked).
      inFlight(REVOCATIONS_PER_WRITER, (i) => writers[0].get(ConnectionStateService).update(appId, blockedHalf[i].id, { blocked: true })),
      // Writer 2: the users revoke their consent (counters active -> inactive, tokens revoked).
      inFlight(REVOCATIONS_PER_WRITER, (i) => writers[1].get(ConnectionStateService).revokeConsent(revokedHalf[i].userId, revokedHalf[i].id)),
    ]);

    const all = ids.flat();
    expect(all).toHaveLength(2 * IDS_PER_WRITER);
    expect(all.filter((id) => !FORMAT.test(id))).toEqual([]);
    expect(new Set(all).size).toBe(all.length);

    const counters = services.ctx.get(ConnectionsRepository);
    const counted = { active: await counters.countAll(appId, 'active'), inactive: await counters.countAll(appId, 'inactive'), blocked: await counters.countAll(appId, 'blocked') };
    expect(counted).toEqual({ active: 0, inactive: REVOCATIONS_PER_WRITER, blocked: REVOCATIONS_PER_WRITER });
    const [real] = await db.query<{ active: string; inactive: string; blocked: string }[]>(
      `SELECT SUM(blocked = 0 AND active = 1) AS active, SUM(blocked = 0 AND active = 0) AS inactive, SUM(blocked = 1) AS blocked FROM connections WHERE application_id = ?`,
      [appId],
    );
    expect({ active: Number(real.active), inactive: Number(real.inactive), blocked: Number(real.blocked) }).toEqual(counted);
    const [tokens] = await db.query<{ live: string; revoked: string }[]>(
      'SELECT SUM(t.revoked = 0) AS live, SUM(t.revoked = 1) AS revoked FROM access_tokens t JOIN connections c ON c.id = t.connection_id WHERE c.application_id = ?',
      [appId],
    );
    expect([Number(tokens.live), Number(tokens.revoked)]).toEqual([0, 2 * REVOCATIONS_PER_WRITER * TOKENS_PER_CONNECTION]);
    // The counters are spread over more than one row of the application.
    const [{ slots }] = await db.query<{ slots: string }[]>('SELECT COUNT(*) AS slots FROM application_user_counts WHERE application_id = ?', [appId]);
    expect(Number(slots)).toBeGreaterThan(1);
  }, 240_000);
});
