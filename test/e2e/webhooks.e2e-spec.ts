import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { Webhook } from 'standardwebhooks';
import { startApi, TestApp } from '../support/harness';
import { payloadOf, Receiver, startReceiver, WebhookPayload } from '../support/receiver';
import { startWorker, WorkerProcess } from '../support/worker';
import { codeFor, createClientApp, currentUser, ErrorBody, exchangeCode } from '../support/oauth';

/** Webhook delivery through the real worker process (Standard Webhooks). */
/** What the portal's webhook endpoints answer, as far as these tests read it (or the error shape). */
interface WebhookApiBody {
  id: string;
  status: string;
  attempts: number;
  attemptLog: { attempt: number; statusCode: number | null }[];
  deliveries: { id: string }[];
  error?: string;
}

describe('webhooks', () => {
  let t: TestApp;
  let receiver: Receiver;
  let worker: WorkerProcess;
  let db: DataSource;
  let app: { id: string; developerCookie: string; webhookSecret: string; client: Awaited<ReturnType<typeof createClientApp>> };

  beforeAll(async () => {
    t = await startApi({ WEBHOOK_BACKOFF_MS: '200', OUTBOX_RELAY_INTERVAL_MS: '100', WORKER_LOCK_MS: '2000', WEBHOOK_TIMEOUT_MS: '3000' });
    db = t.app.get(DataSource);
    receiver = await startReceiver();
    const client = await createClientApp(t.baseUrl);
    const patched = await fetch(`${t.baseUrl}/api/developer/applications/${client.id}/webhook-secret`, {
      method: 'POST',
      headers: { cookie: client.developerCookie },
    });
    const { webhookSecret } = (await patched.json()) as { webhookSecret: string };
    await api('PATCH', `/api/developer/applications/${client.id}`, client.developerCookie, { webhookUrl: receiver.url });
    app = { id: client.id, developerCookie: client.developerCookie, webhookSecret, client };
    worker = await startWorker(t.env);
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await t?.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.respond = () => 200;
  });

  async function api(method: string, path: string, cookie: string, body?: unknown): Promise<{ status: number; body: WebhookApiBody }> {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as WebhookApiBody };
  }

  const ping = () => api('POST', `/api/developer/applications/${app.id}/webhooks/test`, app.developerCookie);
  const status = async (id: string) => (await db.query<{ status: string }[]>('SELECT status FROM webhook_events WHERE id = ?', [id]))[0]?.status;
  async function waitForStatus(id: string, wanted: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while ((await status(id)) !== wanted) {
      if (Date.now() > deadline) throw new Error(`event ${id} is ${await status(id)}, not ${wanted}\n${worker.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('sends a signed ping that the standardwebhooks library verifies', async () => {
    const { status: code, body } = await ping();
    expect(code).toBe(202);
    await receiver.waitFor((r) => r.length === 1);
    const [hook] = receiver.received;
    expect(hook.headers['webhook-id']).toBe(body.id);
    expect(Math.abs(Number(hook.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    const payload = new Webhook(app.webhookSecret).verify(hook.body, hook.headers as Record<string, string>) as WebhookPayload;
    expect(payload.type).toBe('ping');
    expect(payload.data).toEqual({ applicationId: app.id });
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(hook.body, hook.headers as Record<string, string>)).toThrow();
    await waitForStatus(body.id, 'delivered');
  });

  it('closes an account: 204, the old token stops working, and a signed user_account_deleted arrives', async () => {
    const { code, verifier, user } = await codeFor(t.baseUrl, app.client);
    const { body: token } = await exchangeCode(t.baseUrl, app.client, { code, code_verifier: verifier });
    const { body: profile } = await currentUser(t.baseUrl, token.access_token);
    await receiver.waitFor((r) => r.some((h) => payloadOf(h).type === 'user_connected'));
    const closed = await api('DELETE', `/api/developer/applications/${app.id}/users/${profile.id}`, app.developerCookie);
    expect(closed.status).toBe(204);
    expect((await currentUser(t.baseUrl, token.access_token)).res.status).toBe(401);
    await receiver.waitFor((r) => r.some((h) => payloadOf(h).type === 'user_account_deleted'));
    const hook = receiver.received.find((h) => payloadOf(h).type === 'user_account_deleted')!;
    const payload = new Webhook(app.webhookSecret).verify(hook.body, hook.headers as Record<string, string>) as WebhookPayload;
    expect(payload.data).toEqual({ applicationId: app.id, connectionId: profile.id, globalId: user.globalId });
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
  });

  it('finishes the delivery in flight when the worker gets SIGTERM', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    receiver.respond = async () => {
      await held;
      return 200;
    };
    const { body } = await ping();
    await receiver.waitFor((r) => r.length === 1);
    const stopping = worker.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(worker.child.exitCode).toBeNull(); // still finishing the active job
    release();
    await stopping;
    expect(await status(body.id)).toBe('delivered');
    expect(receiver.received).toHaveLength(1);
    worker = await startWorker(t.env);
  });

  it('retries 500 twice then delivers on 200, with the same webhook-id each time, and logs every attempt', async () => {
    receiver.respond = (_, nth) => (nth <= 2 ? 500 : 200);
    const { body } = await ping();
    await waitForStatus(body.id, 'delivered');
    expect(receiver.received.map((h) => h.headers['webhook-id'])).toEqual([body.id, body.id, body.id]);
    const detail = await api('GET', `/api/developer/applications/${app.id}/webhooks/deliveries/${body.id}`, app.developerCookie);
    expect(detail.body.status).toBe('delivered');
    expect(detail.body.attempts).toBe(3);
    expect(detail.body.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(detail.body.attemptLog[0]).toEqual(expect.objectContaining({ attempt: 1, durationMs: expect.any(Number), responseExcerpt: 'status 500', error: null }));
    const log = await api('GET', `/api/developer/applications/${app.id}/webhooks/deliveries?limit=5`, app.developerCookie);
    expect(log.body.deliveries[0]).toEqual(expect.objectContaining({ id: body.id, type: 'ping', status: 'delivered', attempts: 3, lastStatusCode: 200 }));
  });

  it('redelivers an event with the same webhook-id', async () => {
    const { body } = await ping();
    await waitForStatus(body.id, 'delivered');
    const again = await api('POST', `/api/developer/applications/${app.id}/webhooks/deliveries/${body.id}/redeliver`, app.developerCookie);
    expect(again.status).toBe(202);
    await receiver.waitFor((r) => r.length === 2);
    expect(receiver.received[1].headers['webhook-id']).toBe(body.id);
    await waitForStatus(body.id, 'delivered');
  });

  it('disables the endpoint on 410 Gone and stops retrying', async () => {
    receiver.respond = () => 410;
    const { body } = await ping();
    await waitForStatus(body.id, 'failed');
    const endpoint = await api('GET', `/api/developer/applications/${app.id}/webhooks`, app.developerCookie);
    expect(endpoint.body).toEqual(expect.objectContaining({ webhookUrl: receiver.url, enabled: false }));
    await new Promise((r) => setTimeout(r, 700));
    expect(receiver.received).toHaveLength(1);
    // A test ping re-enables it (the developer says the endpoint is back).
    receiver.respond = () => 200;
    const next = await ping();
    await waitForStatus(next.body.id, 'delivered');
  });

  it('reports 503 when no worker makes progress', async () => {
    await worker.stop();
    const res = await fetch(`${t.baseUrl}/health/worker`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error).toBe('temporarily_unavailable');
    worker = await startWorker(t.env);
  });

  it('delivers every event when the worker is killed (SIGKILL) mid-delivery and restarted', async () => {
    receiver.respond = () => new Promise((r) => setTimeout(() => r(200), 300));
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await ping()).body.id);
    await receiver.waitFor((r) => r.length >= 5);
    await worker.stop('SIGKILL');
    worker = await startWorker(t.env);
    for (const id of ids) await waitForStatus(id, 'delivered', 30_000);
    const seen = new Set(receiver.received.map((h) => h.headers['webhook-id']));
    for (const id of ids) expect(seen.has(id)).toBe(true);
  });

  it('reports worker readiness from real progress', async () => {
    let res = await fetch(`${t.baseUrl}/health/worker`);
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${t.baseUrl}/health/worker`);
    }
    expect(res.status).toBe(200);
    // Up or down only: no process ids or job counts for anyone who asks.
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('isolates tenants: another developer gets 404 on every webhook endpoint of this app', async () => {
    const other = await createClientApp(t.baseUrl);
    const { body } = await ping();
    for (const [method, path] of [
      ['GET', `/api/developer/applications/${app.id}/webhooks`],
      ['GET', `/api/developer/applications/${app.id}/webhooks/deliveries`],
      ['GET', `/api/developer/applications/${app.id}/webhooks/deliveries/${body.id}`],
      ['POST', `/api/developer/applications/${app.id}/webhooks/deliveries/${body.id}/redeliver`],
      ['POST', `/api/developer/applications/${app.id}/webhooks/test`],
      ['GET', `/api/developer/applications/${other.id}/webhooks/deliveries/${body.id}`],
      ['POST', `/api/developer/applications/${other.id}/webhooks/deliveries/${body.id}/redeliver`],
    ]) {
      const res = await api(method, path, other.developerCookie);
      expect([path, res.status, res.body.error]).toEqual([path, 404, 'not_found']);
    }
  });
});
