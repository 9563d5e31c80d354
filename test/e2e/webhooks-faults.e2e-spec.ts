import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { WEBHOOK_QUEUE } from '@app/webhooks';
import { ApplicationUsersService as ConnectionAdminService, ConnectionStateService } from '@app/connections';
import { freePort } from '../support/api-process';
import { startApi, TestApp } from '../support/harness';
import { payloadOf, Receiver, startReceiver } from '../support/receiver';
import { startWorker, WorkerProcess } from '../support/worker';
import { ClientApp, createClientApp, ErrorBody } from '../support/oauth';
import { seedConnections } from '../support/seed';
import { countRows, Row } from '../support/db';
import { eventually } from '../support/eventually';

const FAST = { WEBHOOK_BACKOFF_MS: '200', OUTBOX_RELAY_INTERVAL_MS: '100', OUTBOX_LOST_AFTER_SECONDS: '2', WORKER_LOCK_MS: '2000', WEBHOOK_TIMEOUT_MS: '3000' };

async function appWithWebhook(t: TestApp, receiver: Receiver): Promise<ClientApp> {
  const app = await createClientApp(t.baseUrl);
  const res = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}`, {
    method: 'PATCH',
    headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
    body: JSON.stringify({ webhookUrl: receiver.url }),
  });
  expect(res.status).toBe(200);
  return app;
}

const closeVia = (t: TestApp, app: ClientApp, connectionId: string) =>
  fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users/${connectionId}`, { method: 'DELETE', headers: { cookie: app.developerCookie } });

/** Connection ids of `type` webhooks the receiver acknowledged with 2xx. */
function acknowledged(receiver: Receiver, type: string): Set<string> {
  return new Set(
    receiver.received
      .filter((h) => h.status !== undefined && h.status < 300)
      .map((h) => payloadOf(h))
      .filter((p) => p.type === type)
      .map((p) => p.data.connectionId),
  );
}
const acknowledgedClosures = (receiver: Receiver) => acknowledged(receiver, 'user_account_deleted');

describe('webhook delivery through Redis failures', () => {
  // Picked once (a free port), then reused: the Redis of this suite is stopped and started again on it.
  let port: number;
  let redis: ChildProcess;
  let t: TestApp;
  let receiver: Receiver;
  let worker: WorkerProcess;
  let db: DataSource;

  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const listening = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
        socket.on('error', () => resolve(false));
      });
    await eventually(listening, 'redis to listen');
  };

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    t = await startApi({ ...FAST, REDIS_URL: `redis://127.0.0.1:${port}` });
    db = t.app.get(DataSource);
    receiver = await startReceiver();
    worker = await startWorker(t.env);
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await receiver?.close();
    await t?.close();
    redis?.kill('SIGKILL');
  });

  it('delivers every committed change after Redis crashes (losing its queue) and returns; closures fail cleanly meanwhile', async () => {
    const app = await appWithWebhook(t, receiver);
    const ids = await seedConnections(db, app.id, 15);
    receiver.respond = () => 500;

    // 1. Redis up: 5 closures whose deliveries fail and sit in BullMQ as delayed retries.
    for (const id of ids.slice(0, 5)) expect((await closeVia(t, app, id)).status).toBe(204);
    await receiver.waitFor((r) => r.length >= 5);

    // 2. Redis crashes: its queue (the delayed retries) is gone.
    redis.kill('SIGKILL');
    await once(redis, 'exit');

    // 3. While it is down, HTTP DELETEs fail cleanly (503, nothing written)...
    for (const id of ids.slice(5, 10)) {
      const res = await closeVia(t, app, id);
      expect(res.status).toBe(503);
      expect(((await res.json()) as ErrorBody).error).toBe('temporarily_unavailable');
      expect(await db.query<Row[]>('SELECT id FROM connections WHERE id = ?', [id])).toHaveLength(1);
    }
    // ...a closure does not commit either, even below HTTP: it must tell every API process that the
    // connection's tokens are dead (the Redis change signals), and nobody can hear that now...
    const admin = t.app.get(ConnectionAdminService);
    for (const id of ids.slice(10, 15)) await expect(admin.close(app.id, id)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
    // ...while changes that need only MySQL commit (muting changes no token's answer): their events wait in the outbox.
    const state = t.app.get(ConnectionStateService);
    const owners = await db.query<{ id: string; user_id: number }[]>('SELECT id, user_id FROM connections WHERE id IN (?)', [ids.slice(10, 15)]);
    for (const { id, user_id } of owners) await state.updateForUser(Number(user_id), id, { emailMuted: true });

    // 4. Redis returns, empty. Every committed change must still reach the receiver.
    receiver.respond = () => 200;
    await startRedis();
    const closed = ids.slice(0, 5);
    await eventually(() => closed.every((id) => acknowledgedClosures(receiver).has(id)), 'every committed closure to be delivered', 40_000);
    const muted = ids.slice(10, 15);
    await eventually(() => muted.every((id) => acknowledged(receiver, 'email_muted_changed').has(id)), 'every committed mute to be delivered', 40_000);
    // The receiver's 2xx comes just before the worker records it.
    const undelivered = async () => (await db.query<Row[]>(`SELECT id FROM webhook_events WHERE application_id = ? AND status <> 'delivered'`, [app.id])).length;
    await eventually(async () => (await undelivered()) === 0, 'every event to be recorded as delivered');
    const remaining = await db.query<{ id: string }[]>('SELECT id FROM connections WHERE application_id = ?', [app.id]);
    expect(remaining.map((r) => r.id).sort()).toEqual(ids.slice(5, 15).sort());
    // The API's queue client reconnects on its own; the suite shuts the API down only once it has
    // (closing a client that is still reconnecting makes BullMQ's close reject).
    const queue = t.app.get<Queue>(getQueueToken(WEBHOOK_QUEUE), { strict: false });
    await eventually(
      () =>
        queue.getJobCounts().then(
          () => true,
          () => false,
        ),
      'the API to reach Redis again',
    );
  });
});

describe('a burst of account closures', () => {
  let t: TestApp;
  let receiver: Receiver;
  let worker: WorkerProcess;

  beforeAll(async () => {
    t = await startApi(FAST);
    receiver = await startReceiver();
    worker = await startWorker(t.env);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await t?.close();
  });

  it('delivers exactly 1,000 distinct events for 1,000 closures, none lost', async () => {
    const db = t.app.get(DataSource);
    const app = await appWithWebhook(t, receiver);
    const ids = await seedConnections(db, app.id, 1000);
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let id = queue.pop(); id; id = queue.pop()) expect((await closeVia(t, app, id)).status).toBe(204);
      }),
    );
    await eventually(() => acknowledgedClosures(receiver).size === 1000, '1,000 deliveries', 60_000);
    const eventIds = new Set(receiver.received.map((h) => h.headers['webhook-id']));
    expect(eventIds.size).toBe(1000);
    expect(acknowledgedClosures(receiver)).toEqual(new Set(ids));
    const delivered = async () => await countRows(db, `SELECT COUNT(*) AS n FROM webhook_events WHERE application_id = ? AND status = 'delivered'`, [app.id]);
    await eventually(async () => (await delivered()) === 1000, 'all 1,000 events recorded as delivered');
    expect(await db.query<Row[]>(`SELECT COUNT(*) AS n FROM webhook_events WHERE application_id = ?`, [app.id])).toEqual([{ n: 1000 }]);
  });
});
