import { randomBytes } from 'node:crypto';
import { createTransport, SendMailOptions } from 'nodemailer';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { freePort } from '../support/api-process';
import { startWorker, WorkerProcess } from '../support/worker';
import { RelayProcess, startRelay, startSink, Sink } from '../support/relay';
import { startReceiver, Receiver } from '../support/receiver';
import { codeFor, createClientApp, ClientApp, exchangeCode } from '../support/oauth';
import { loginUser, signUpUser } from '../support/accounts';
import { seedConnections } from '../support/seed';
import { publishSender, registerSenders, startDns, TestDns } from '../support/dns';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseScrape, scrape, Scrape } from '../support/prometheus';

/** Matches any string (typed, so it can sit in typed expectations). */
const anyString: unknown = expect.any(String);

const TOKEN = `metrics-${randomBytes(16).toString('hex')}`;

/** Waits until `check(scrape)` holds for a fresh scrape of `url` (bounded). */
async function scrapeUntil(url: string, check: (s: Scrape) => boolean, timeoutMs = 20_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape(url, TOKEN);
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`metrics at ${url} did not reach the expected state`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectUnauthorized(url: string, authorization?: string) {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(await res.json()).toEqual({ error: 'invalid_token', error_description: anyString });
}

/** Prometheus metrics of the API, the worker and the relay, read from their real /metrics text. */
describe('metrics', () => {
  let t: TestApp;
  let db: DataSource;
  let app: ClientApp;
  let receiver: Receiver;
  let sink: Sink;
  let dns: TestDns;
  let worker: WorkerProcess;
  let relay: RelayProcess;
  let workerUrl: string;
  let relayUrl: string;

  beforeAll(async () => {
    const [workerPort, relayPort] = [await freePort(), await freePort()];
    sink = await startSink();
    dns = await startDns();
    publishSender(dns, 'app.example');
    receiver = await startReceiver();
    t = await startApi({
      METRICS_TOKEN: TOKEN,
      WORKER_METRICS_PORT: String(workerPort),
      RELAY_METRICS_PORT: String(relayPort),
      HOST: '127.0.0.1',
      SMTP_URL: sink.url,
      OUTBOX_RELAY_INTERVAL_MS: '100',
      DNS_SERVERS: dns.server,
    });
    db = t.app.get(DataSource);
    app = await createClientApp(t.baseUrl);
    workerUrl = `http://127.0.0.1:${workerPort}/metrics`;
    relayUrl = `http://127.0.0.1:${relayPort}/metrics`;
    [worker, relay] = await Promise.all([startWorker(t.env), startRelay({ ...t.env, DNS_SERVERS: dns.server })]);
  });
  afterAll(async () => {
    await relay?.stop();
    await worker?.stop();
    await receiver?.close();
    await sink?.close();
    await dns?.close();
    await t?.close();
  });

  it('asks for the metrics token on every /metrics (API, worker, relay)', async () => {
    for (const url of [`${t.baseUrl}/metrics`, workerUrl, relayUrl]) {
      await expectUnauthorized(url);
      await expectUnauthorized(url, `Bearer ${TOKEN}x`);
      await expectUnauthorized(url, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`);
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    }
    const post = await fetch(`${t.baseUrl}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(post.status).toBe(404);
    expect(await post.json()).toEqual({ error: 'not_found', error_description: anyString });
  });

  it('a worker whose metrics port is taken stops with a message naming WORKER_METRICS_PORT', async () => {
    const taken = new URL(workerUrl).port;
    const started = await startWorker({ ...t.env, WORKER_METRICS_PORT: taken }).then(
      async (w) => {
        await w.stop();
        return 'started';
      },
      (error: unknown) => String(error),
    );
    expect(started).toContain(`The metrics port ${taken} is already in use: set WORKER_METRICS_PORT`);
  });

  it('API: request latency by route pattern, never a raw id, token or address', async () => {
    const stray = `nope-${randomBytes(6).toString('hex')}`;
    expect((await fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users`, { headers: { cookie: app.developerCookie } })).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/api/${stray}`)).status).toBe(404);
    const user = await signUpUser(t.baseUrl);

    const s = await scrape(`${t.baseUrl}/metrics`, TOKEN);
    expect(s.families.get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    const usersRoute = { method: 'GET', route: '/api/developer/applications/:appId/users', status: '200' };
    expect(s.value('http_request_duration_seconds_count', usersRoute)).toBe(1);
    expect(s.value('http_request_duration_seconds_bucket', { ...usersRoute, le: '+Inf' })).toBe(1);
    expect(s.value('http_request_duration_seconds_sum', usersRoute)).toBeGreaterThan(0);
    expect(s.value('http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(s.value('http_request_duration_seconds_count', { method: 'POST', route: '/api/account/signup', status: '201' })).toBe(1);
    const text = s.samples.map((x) => JSON.stringify(x)).join('\n');
    for (const secret of [app.id, app.clientId, stray, user.email, user.sessionId]) expect(text).not.toContain(secret);
    for (const sample of s.samples.filter((x) => x.labels.route !== undefined)) expect(sample.labels.route).toMatch(/^(\/[a-zA-Z0-9/:._-]*|unmatched)$/);
  });

  it('API: sign-ins and token requests by result', async () => {
    const user = await signUpUser(t.baseUrl);
    await loginUser(t.baseUrl, user.email, user.password);
    const wrong = await fetch(`${t.baseUrl}/api/account/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: 'not the password' }),
    });
    expect(wrong.status).toBe(401);

    const { code, verifier } = await codeFor(t.baseUrl, app);
    expect((await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).res.status).toBe(200);
    expect((await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).body.error).toBe('invalid_grant');
    expect((await exchangeCode(t.baseUrl, { ...app, clientSecret: 'wrong' }, { code: 'x' })).body.error).toBe('invalid_client');
    expect((await exchangeCode(t.baseUrl, app, { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    expect((await exchangeCode(t.baseUrl, app, { grant_type: `x-${randomBytes(4).toString('hex')}` })).body.error).toBe('unsupported_grant_type');

    const s = await scrape(`${t.baseUrl}/metrics`, TOKEN);
    expect(s.families.get('loginsign_logins_total')?.type).toBe('COUNTER');
    expect(s.value('loginsign_logins_total', { method: 'password', result: 'success' })).toBe(1);
    expect(s.value('loginsign_logins_total', { method: 'password', result: 'invalid_credentials' })).toBe(1);
    expect(s.families.get('loginsign_token_requests_total')?.type).toBe('COUNTER');
    const token = (grant_type: string, result: string) => s.value('loginsign_token_requests_total', { grant_type, result });
    expect(token('authorization_code', 'success')).toBe(1);
    expect(token('authorization_code', 'invalid_grant')).toBe(1);
    expect(token('authorization_code', 'invalid_client')).toBe(1);
    expect(token('password', 'unsupported_grant_type')).toBe(1);
    expect(token('other', 'unsupported_grant_type')).toBe(1);
  });

  it('API: Node process metrics and the MySQL pool', async () => {
    const s = await scrape(`${t.baseUrl}/metrics`, TOKEN);
    expect(s.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(s.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(s.families.get('nodejs_eventloop_lag_seconds')?.type).toBe('GAUGE');
    expect(s.value('loginsign_mysql_pool_connections', { state: 'max' })).toBeGreaterThan(0);
    expect(s.value('loginsign_mysql_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(s.value('loginsign_mysql_pool_waiting_requests')).toBe(0);
  });

  it('worker: webhook deliveries by result, backlog, queue depths and process metrics', async () => {
    const portal = (method: string, path: string, body?: unknown) =>
      fetch(`${t.baseUrl}${path}`, {
        method,
        headers: { cookie: app.developerCookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    expect((await portal('POST', `/api/developer/applications/${app.id}/webhook-secret`)).status).toBe(200);
    expect((await portal('PATCH', `/api/developer/applications/${app.id}`, { webhookUrl: receiver.url })).status).toBe(200);
    expect((await portal('POST', `/api/developer/applications/${app.id}/webhooks/test`)).status).toBe(202);
    await receiver.waitFor((r) => r.some((h) => (JSON.parse(h.body) as { type: string }).type === 'ping'));

    const s = await scrapeUntil(workerUrl, (x) => (x.value('loginsign_webhook_deliveries_total', { result: 'success' }) ?? 0) >= 1);
    expect(s.families.get('loginsign_webhook_deliveries_total')?.type).toBe('COUNTER');
    expect(s.families.get('loginsign_webhook_backlog')?.type).toBe('GAUGE');
    expect(s.value('loginsign_webhook_backlog')).toBeGreaterThanOrEqual(0);
    for (const queue of ['webhooks', 'relay-mail', 'housekeeping']) {
      for (const state of ['waiting', 'delayed', 'active', 'failed']) expect(s.value('loginsign_queue_jobs', { queue, state })).toBeGreaterThanOrEqual(0);
      expect(s.value('loginsign_queue_oldest_waiting_job_age_seconds', { queue })).toBeGreaterThanOrEqual(0);
    }
    expect(s.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(s.value('loginsign_mysql_pool_connections', { state: 'max' })).toBeGreaterThan(0);
    // The worker serves only its own families.
    expect(s.families.has('http_request_duration_seconds')).toBe(false);
    expect(s.families.has('loginsign_relay_messages_total')).toBe(false);
  });

  it('relay: forwarded, dropped and refused recipients', async () => {
    await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example'] });
    const [forwarding, muted] = await seedConnections(db, app.id, 2);
    await db.query('UPDATE connections SET email_muted = 1 WHERE id = ?', [muted]);
    // Only a confirmed primary address receives relay mail.
    await db.query(
      "INSERT INTO user_emails (user_id, email, linked, is_primary, confirmed_at) SELECT user_id, CONCAT(id, '@real.example'), 1, 1, UTC_TIMESTAMP(3) FROM connections WHERE id IN (?, ?)",
      [forwarding, muted],
    );
    const relayAddress = async (id: string) =>
      `${(await db.query<{ relay_local: string }[]>('SELECT relay_local FROM connections WHERE id = ?', [id]))[0].relay_local}@loginsign.com`;
    const send = async (mail: SendMailOptions) => {
      const transport = createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
      try {
        return await transport.sendMail({ text: 'hello', from: 'news@app.example', subject: 'metrics', ...mail });
      } finally {
        transport.close();
      }
    };
    await send({ to: [await relayAddress(forwarding), await relayAddress(muted)] });
    await expect(send({ to: `r-${'a'.repeat(26)}@loginsign.com` })).rejects.toMatchObject({ responseCode: 550 });

    const s = parseScrape(await (await fetch(relayUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
    expect(s.families.get('loginsign_relay_messages_total')?.type).toBe('COUNTER');
    expect(s.value('loginsign_relay_messages_total', { decision: 'forwarded' })).toBe(1);
    expect(s.value('loginsign_relay_messages_total', { decision: 'dropped' })).toBe(1);
    expect(s.value('loginsign_relay_messages_total', { decision: 'refused' })).toBe(1);
    expect(s.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(s.families.has('loginsign_logins_total')).toBe(false);
  });

  it('the Grafana dashboard in docs/ queries only metrics these processes serve, and every family of theirs', async () => {
    const dashboard = JSON.parse(readFileSync(path.resolve(__dirname, '../../docs/grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const served = new Map<string, string>();
    for (const url of [`${t.baseUrl}/metrics`, workerUrl, relayUrl]) for (const [name, family] of (await scrape(url, TOKEN)).families) served.set(name, family.type);
    const used = new Set(exprs.flatMap((e) => e.match(/\b(?:loginsign|http|process|nodejs)_[a-z0-9_]+\b/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      expect([name, served.has(name) || (served.get(family) === 'HISTOGRAM' && family !== name)]).toEqual([name, true]);
    }
    for (const family of served.keys()) {
      if (family.startsWith('loginsign_') || family.startsWith('http_')) expect([family, [...used].some((n) => n.startsWith(family))]).toEqual([family, true]);
    }
  });

  it('is open without METRICS_TOKEN, and other paths of the metrics servers answer 404 in the error shape', async () => {
    const open = await startApi();
    try {
      const s = await scrape(`${open.baseUrl}/metrics`);
      expect(s.families.has('http_request_duration_seconds')).toBe(true);
    } finally {
      await open.close();
    }
    const other = await fetch(workerUrl.replace('/metrics', '/'), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'not_found', error_description: anyString });
  });
});
