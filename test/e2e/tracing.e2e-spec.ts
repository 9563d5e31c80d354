// OpenTelemetry tracing: the API and the worker run as child processes and
// export their spans (OTLP/HTTP, JSON) to a receiver this test runs. A webhook
// delivery is one trace with the request that caused it; without
// OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported.
import { execFileSync } from 'node:child_process';
import { createServer, Server } from 'node:http';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, dropDatabase, migrate } from '@app/database';
import { testEnv } from '../support/harness';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { startWorker, WorkerProcess } from '../support/worker';
import { payloadOf, startReceiver } from '../support/receiver';
import { codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';
import { eventually } from '../support/eventually';
import { startApi } from '../support/harness';
import { publishSender, registerSenders, startDns } from '../support/dns';
import { startRelay, startSink } from '../support/relay';
import { seedConnections } from '../support/seed';
import { createTransport } from 'nodemailer';
import { randomBytes } from 'node:crypto';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

/** A received span with its service and instrumentation scope. */
interface Span extends OtlpSpan {
  service: string;
  scope: string;
  attr: Record<string, string | number | boolean | undefined>;
}

const root = path.resolve(__dirname, '../..');
const SERVER = 2;
const CONSUMER = 5;

/** A local OTLP/HTTP receiver (JSON encoding): records every span posted to /v1/traces. */
async function startOtlpReceiver() {
  const spans: Span[] = [];
  const posts: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      posts.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      if (req.method !== 'POST' || req.url !== '/v1/traces') return res.writeHead(404).end();
      const data = JSON.parse(body) as OtlpExport;
      for (const rs of data.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) {
          for (const span of ss.spans) {
            const attr = Object.fromEntries((span.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue]));
            spans.push({ ...span, service, scope: ss.scope.name, attr });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, spans, posts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const FAST = { WEBHOOK_BACKOFF_MS: '200', OUTBOX_RELAY_INTERVAL_MS: '100', WORKER_LOCK_MS: '2000', WEBHOOK_TIMEOUT_MS: '3000' };

/** An API and a worker on one fresh database, an application with a webhook receiver. */
async function startStack(extra: Record<string, string>) {
  const port = await freePort();
  const env = testEnv({ ...FAST, PUBLIC_URL: `http://127.0.0.1:${port}`, ...extra });
  await migrate(loadConfig(env));
  const db = await new DataSource(dataSourceOptions(loadConfig(env))).initialize();
  const receiver = await startReceiver();
  const processes: (ApiProcess | WorkerProcess)[] = [];
  const api = await startApiProcess(env, port);
  processes.push(api);
  processes.push(await startWorker(env));
  const app = await createClientApp(api.baseUrl);
  const patched = await fetch(`${api.baseUrl}/api/developer/applications/${app.id}`, {
    method: 'PATCH',
    headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
    body: JSON.stringify({ webhookUrl: receiver.url }),
  });
  expect(patched.status).toBe(200);
  return {
    api,
    app,
    db,
    receiver,
    /** A user connects, then the developer deletes them: the DELETE request queues user_account_deleted. */
    async deleteAUser() {
      const { code, verifier, user } = await codeFor(api.baseUrl, app);
      const { body: token } = await exchangeCode(api.baseUrl, app, { code, code_verifier: verifier });
      const { body: profile } = await currentUser(api.baseUrl, token.access_token);
      const res = await fetch(`${api.baseUrl}/api/developer/applications/${app.id}/users/${profile.id}`, {
        method: 'DELETE',
        headers: { cookie: app.developerCookie },
      });
      expect(res.status).toBe(204);
      await receiver.waitFor((r) => r.some((h) => payloadOf(h).type === 'user_account_deleted'));
      const [event] = await db.query<{ id: string }[]>("SELECT id FROM webhook_events WHERE type = 'user_account_deleted'");
      await eventually(
        async () => (await db.query<{ status: string }[]>('SELECT status FROM webhook_events WHERE id = ?', [event.id]))[0]?.status === 'delivered',
        'the delivery to be recorded',
      );
      return { eventId: event.id, connectionId: profile.id, email: user.email };
    },
    /** Graceful stop: each process sends its buffered spans before it exits. */
    async stop() {
      await Promise.all(processes.map((p) => p.stop().catch(() => undefined)));
      await receiver.close();
      await db.destroy();
      await dropDatabase(env.DATABASE_URL);
    },
  };
}

describe('tracing (OTLP/HTTP)', () => {
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    otlp = await startOtlpReceiver();
  });
  afterAll(() => otlp?.close());

  it('exports one trace from the API request to the worker delivery, with MySQL and Redis spans', async () => {
    const stack = await startStack({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // The API queues the job right after its commit (in the request's trace); the sweeper, which
      // would start a new trace for an event it queues first, stays out of the way.
      OUTBOX_RELAY_INTERVAL_MS: '60000',
    });
    try {
      const { eventId, connectionId, email } = await stack.deleteAUser();
      const route = '/api/developer/applications/:appId/users/:connectionId';
      const find = () => ({
        request: otlp.spans.find((s) => s.service === 'loginsign-api' && s.kind === SERVER && s.attr['http.request.method'] === 'DELETE' && s.attr['http.route'] === route),
        delivery: otlp.spans.find((s) => s.service === 'loginsign-worker' && s.kind === CONSUMER && s.attr['loginsign.webhook.event_id'] === eventId),
      });
      await eventually(() => !!find().request && !!find().delivery, 'the request and delivery spans').catch((error: Error) => {
        const seen = otlp.spans
          .filter((s) => s.kind === SERVER || s.kind === CONSUMER || s.service !== 'loginsign-api')
          .map((s) => `${s.service} ${s.kind} ${s.name} ${s.traceId}`);
        throw new Error(`${error.message}; received:\n${seen.join('\n').slice(0, 4000)}`);
      });
      const { request, delivery } = find() as { request: Span; delivery: Span };

      // The delivery continues the request's trace: same trace, a descendant of the request's span.
      expect(delivery.traceId).toBe(request.traceId);
      expect(delivery.name).toBe('webhook delivery');
      expect(delivery.parentSpanId).toBeTruthy();
      const ids = new Set(otlp.spans.filter((s) => s.traceId === request.traceId).map((s) => s.spanId));
      expect(ids.has(delivery.parentSpanId!)).toBe(true);
      expect(request.name).toBe(`DELETE ${route}`);
      expect(request.attr['url.path']).toBe(`/api/developer/applications/${stack.app.id}/users/${connectionId}`);

      // The request's database and Redis calls are in its trace; so are the delivery's.
      await eventually(() => {
        const inTrace = otlp.spans.filter((s) => s.traceId === request.traceId);
        const has = (service: string, scope: string) => inTrace.some((s) => s.service === service && s.scope.includes(scope));
        return has('loginsign-api', 'mysql2') && has('loginsign-api', 'ioredis') && has('loginsign-worker', 'mysql2') && has('loginsign-worker', 'http');
      }, 'mysql2, ioredis and http spans in the trace');
      const apiScopes = new Set(otlp.spans.filter((s) => s.traceId === request.traceId).map((s) => `${s.service} ${s.scope}`));
      expect([...apiScopes].some((s) => s.startsWith('loginsign-api') && s.includes('fastify'))).toBe(true);
      // Values of sensitive query parameters never reach a span.
      const authorizeSpan = () => otlp.spans.find((s) => s.kind === SERVER && s.attr['http.route'] === '/oauth/authorize' && s.attr['http.request.method'] === 'GET');
      await eventually(() => !!authorizeSpan(), 'the authorization request span');
      const query = new URLSearchParams(String(authorizeSpan()!.attr['url.query'] ?? ''));
      expect(query.get('client_id')).toBe(stack.app.clientId);
      expect(query.get('state')).toBe('REDACTED');
      expect(query.get('code_challenge')).toBe('REDACTED');
      // No query value (the user's address was a parameter of several queries) is in any span.
      expect(otlp.spans.some((s) => s.scope.includes('mysql2') && String(s.attr['db.query.text']).includes('WHERE'))).toBe(true);
      expect(JSON.stringify(otlp.spans)).not.toContain(email);
      // Health probes are not traced.
      expect(otlp.spans.some((s) => String(s.attr['url.path'] ?? '').startsWith('/health'))).toBe(false);
    } finally {
      await stack.stop();
    }
  }, 120_000);

  it("continues the SMTP message's trace in the worker's relay forward", async () => {
    const sink = await startSink();
    // The relay authenticates senders: this test's DNS server publishes app.example's SPF, DMARC and verification records.
    const dns = await startDns();
    publishSender(dns, 'app.example');
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
    // The relay queues the forward after storing it; the worker's sweep (a new trace) stays out of the way.
    const t = await startApi({ SMTP_URL: sink.url, OUTBOX_RELAY_INTERVAL_MS: '60000', DNS_SERVERS: dns.server, ...otel });
    const processes: { stop(): Promise<void> }[] = [];
    try {
      const db = t.app.get(DataSource);
      const app = await createClientApp(t.baseUrl);
      await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example'] });
      const [connectionId] = await seedConnections(db, app.id, 1);
      const [row] = await db.query<{ user_id: number; relay_local: string }[]>('SELECT user_id, relay_local FROM connections WHERE id = ?', [connectionId]);
      const email = `user-${randomBytes(4).toString('hex')}@real.example`;
      await db.query('INSERT INTO user_emails (user_id, email, linked, is_primary, confirmed_at) VALUES (?, ?, 1, 1, UTC_TIMESTAMP(3))', [row.user_id, email]);
      const worker = await startWorker(t.env);
      processes.push(worker);
      const relay = await startRelay(t.env);
      processes.push(relay);

      const subject = `trace-${randomBytes(6).toString('hex')}`;
      const transport = createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({ from: 'news@app.example', to: `${row.relay_local}@loginsign.com`, subject, text: 'hello' });
      } finally {
        transport.close();
      }
      await sink.waitFor((r) => r.some((m) => m.to.includes(email) && m.raw.toString('latin1').includes(subject)));
      const [message] = await db.query<{ id: string }[]>('SELECT id FROM relay_messages WHERE connection_id = ?', [connectionId]);

      const find = () => ({
        intake: otlp.spans.find((s) => s.service === 'loginsign-relay' && s.kind === SERVER && s.name === 'smtp message'),
        forward: otlp.spans.find((s) => s.service === 'loginsign-worker' && s.kind === CONSUMER && s.attr['loginsign.relay.message_id'] === message.id),
      });
      await eventually(() => !!find().intake && !!find().forward, 'the SMTP message and relay delivery spans');
      const { intake, forward } = find() as { intake: Span; forward: Span };
      expect(forward.name).toBe('relay delivery');
      expect(forward.traceId).toBe(intake.traceId);
      expect(forward.parentSpanId).toBe(intake.spanId);
      // The intake's queries are in the message's trace.
      await eventually(
        () => otlp.spans.some((s) => s.traceId === intake.traceId && s.service === 'loginsign-relay' && s.scope.includes('mysql2')),
        "the relay's MySQL spans in the trace",
      );
    } finally {
      await Promise.all(processes.map((p) => p.stop().catch(() => undefined)));
      await sink.close();
      await t.close();
    }
  }, 120_000);

  it('the tracing entry loads no OpenTelemetry module unless OTEL_EXPORTER_OTLP_ENDPOINT is set', () => {
    const probe = (env: Record<string, string>) => {
      const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_'))) as Record<string, string>;
      const out = execFileSync(process.execPath, [path.join(root, 'scripts/run-ts.js'), path.join(root, 'test/support/tracing-probe.ts')], {
        cwd: root,
        env: { ...clean, ...env },
        encoding: 'utf8',
      });
      return Number(/opentelemetry-modules=(\d+)/.exec(out)?.[1]);
    };
    expect(probe({})).toBe(0);
    expect(probe({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces` })).toBe(0);
    expect(probe({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100' })).toBeGreaterThan(10);
  });

  it('exports nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const before = otlp.posts.length;
    // Were the SDK loaded, these would send the spans to the receiver.
    const stack = await startStack({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await stack.deleteAUser();
    // A graceful stop flushes whatever a running SDK had buffered: after it, nothing may have arrived.
    await stack.stop();
    expect(otlp.posts.slice(before)).toEqual([]);
  }, 120_000);
});
