// The worker's housekeeping job on seeded rows and session indexes: only what
// is expired or older than its retention goes; batches of 1,000 repeat until
// nothing is left.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS, SessionService, sha256Hex } from '@app/common';
import { HousekeepingProcessor } from '../../apps/worker/src/jobs/housekeeping.processor';
import { startApi, TestApp } from '../support/harness';
import { createClientApp } from '../support/oauth';
import { seedConnections } from '../support/seed';
import { Row } from '../support/db';

const id22 = () => randomBytes(16).toString('base64url').slice(0, 22);
const ago = (days: number) => new Date(Date.now() - days * 86_400_000);
const ahead = (days: number) => new Date(Date.now() + days * 86_400_000);

describe('housekeeping', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApi({ WEBHOOK_LOG_RETENTION_DAYS: '30' });
    db = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  it('removes expired tokens and codes, old delivery logs, failed events, orphaned bodies, unused reply aliases and ended-session ids, in batches, and nothing else', async () => {
    const app = await createClientApp(t.baseUrl);
    const [connectionId] = await seedConnections(db, app.id, 1);
    const [{ user_id: userId }] = await db.query<Row[]>('SELECT user_id FROM connections WHERE id = ?', [connectionId]);

    // Access tokens: 1,500 expired (some revoked: crosses one batch), 1 live, 1 revoked but live.
    const tokens = (rows: { expires: Date; revoked: number; tag: string }[]) =>
      db.query(
        `INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at, revoked) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?)').join(',')}`,
        rows.flatMap((r) => [id22(), connectionId, id22(), r.tag, r.expires, r.revoked]),
      );
    await tokens(Array.from({ length: 1500 }, (_, i) => ({ expires: ago(1), revoked: i % 3 === 0 ? 1 : 0, tag: 'old' })));
    await tokens([
      { expires: ahead(1), revoked: 0, tag: 'live' },
      { expires: ahead(1), revoked: 1, tag: 'live-revoked' },
    ]);

    const refresh = (expires: Date, scope: string) =>
      db.query(`INSERT INTO refresh_tokens (id, token_hash, family_id, connection_id, application_id, scope, auth_time, family_expires_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`, [
        id22(),
        randomBytes(32),
        id22(),
        connectionId,
        app.id,
        scope,
        expires,
      ]);
    await refresh(ago(1), 'old');
    await refresh(ahead(1), 'live');

    const verification = (expires: Date, email: string) =>
      db.query('INSERT INTO email_verifications (user_id, email, token_hash, expires_at) VALUES (?, ?, ?, ?)', [userId, email, randomBytes(32), expires]);
    await verification(ago(1), 'old@example.com');
    await verification(ahead(1), 'live@example.com');

    // Webhook events: delivered and old (goes, with its attempts), delivered and recent, pending and old, failed and old.
    const event = async (tag: string, status: string, created: Date) => {
      const id = `ev_${tag}`;
      await db.query('INSERT INTO webhook_events (id, application_id, type, payload, status, created_at) VALUES (?, ?, ?, ?, ?, ?)', [id, app.id, 'ping', '{}', status, created]);
      await db.query('INSERT INTO webhook_attempts (event_id, attempt, url, status_code, duration_ms, created_at) VALUES (?, 1, ?, 200, 5, ?)', [
        id,
        'https://x.example/h',
        created,
      ]);
      return id;
    };
    await event('old_delivered', 'delivered', ago(31));
    await event('new_delivered', 'delivered', ago(29));
    await event('old_pending', 'pending', ago(31));
    await event('old_failed', 'failed', ago(31));
    await event('ancient_failed', 'failed', ago(91));

    const relay = (id: string, status: string, created: Date) =>
      db.query('INSERT INTO relay_messages (id, kind, status, mail_from, rcpt_to, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        id,
        'inbound',
        status,
        'a@b.c',
        'x@loginsign.com',
        created,
      ]);
    await relay('rm_old_delivered', 'delivered', ago(31));
    await relay('rm_old_failed', 'failed', ago(40));
    await relay('rm_old_queued', 'queued', ago(31));
    await relay('rm_new_delivered', 'delivered', ago(2));

    // Relay bodies: an old one no message needs goes; one a queued message needs and a recent orphan stay.
    const body = (id: string, created: Date) => db.query('INSERT INTO relay_message_bodies (id, raw, created_at) VALUES (?, ?, ?)', [id, 'raw', created]);
    await body('b_old_orphan', ago(31));
    await body('b_old_needed', ago(31));
    await body('b_new_orphan', ago(2));
    await db.query(`UPDATE relay_messages SET body_id = 'b_old_needed' WHERE id = 'rm_old_queued'`);

    // Reply aliases: unused for longer than the retention (180 days) goes; old but recently used stays.
    const alias = (id: string, created: Date, used: Date) =>
      db.query('INSERT INTO relay_reply_aliases (alias, connection_id, sender, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)', [
        id.padEnd(26, '0'),
        connectionId,
        'news@shop.example',
        created,
        used,
      ]);
    await alias('unused', ago(200), ago(181));
    await alias('used', ago(400), ago(1));

    // Session count batch ids: 1,500 applied more than a day ago go (crosses one batch); a recent one stays.
    const batchIds = Array.from({ length: 1500 }, () => ({ id: id22(), at: new Date(Date.now() - 25 * 3600_000) })).concat({ id: 'recent-batch', at: ago(0) });
    await db.query(
      `INSERT INTO session_count_batches (id, applied_at) VALUES ${batchIds.map(() => '(?, ?)').join(',')}`,
      batchIds.flatMap((b) => [b.id, b.at]),
    );

    // Session indexes: one account with a live and an ended session, one whose only session ended.
    const sessions = t.app.get(SessionService);
    const redis = t.app.get<Redis>(REDIS);
    const live = await sessions.create('user', 900_001);
    const ended = [await sessions.create('user', 900_001), await sessions.create('user', 900_002)];
    await redis.del(...ended.map((e) => `sess:{${sha256Hex(e.id)}}`));

    const processor = new HousekeepingProcessor(db, {} as Queue, t.config, sessions);
    const result = await processor.process();
    expect(result.tables).toEqual({
      access_tokens: 1500,
      refresh_tokens: 1,
      email_verifications: 1,
      // The four attempts older than the retention (their events' status does not matter for the log).
      webhook_attempts: 4,
      webhook_events: 1,
      relay_messages: 2,
      relay_message_bodies: 1,
      failed_webhook_events: 1,
      relay_reply_aliases: 1,
      session_count_batches: 1500,
      session_index_entries: 2,
    });

    const col = async (sql: string) => (await db.query<Record<string, string>[]>(sql)).map((r) => Object.values(r)[0]).sort();
    expect(await col('SELECT scope FROM access_tokens')).toEqual(['live', 'live-revoked']);
    expect(await col('SELECT scope FROM refresh_tokens')).toEqual(['live']);
    expect(await col('SELECT email FROM email_verifications')).toEqual(['live@example.com']);
    expect(await col('SELECT id FROM webhook_events')).toEqual(['ev_new_delivered', 'ev_old_failed', 'ev_old_pending']);
    expect(await col('SELECT event_id FROM webhook_attempts')).toEqual(['ev_new_delivered']);
    expect(await col('SELECT id FROM relay_messages')).toEqual(['rm_new_delivered', 'rm_old_queued']);
    expect(await col('SELECT id FROM relay_message_bodies')).toEqual(['b_new_orphan', 'b_old_needed']);
    expect(await col('SELECT alias FROM relay_reply_aliases')).toEqual(['used'.padEnd(26, '0')]);
    expect(await col('SELECT id FROM session_count_batches')).toEqual(['recent-batch']);
    expect(await redis.smembers('sess-of:{user:900001}')).toEqual([sha256Hex(live.id)]);
    expect(await redis.exists('sess-of:{user:900002}')).toBe(0);

    // A second run finds nothing.
    expect((await processor.process()).removed).toBe(0);
  });
});
