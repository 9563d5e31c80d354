// A deployment (2 API + 2 worker processes, one MySQL, Redis given by URL) and
// a stream of sign-ins to run against it while Redis fails over.
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, dropDatabase, migrate } from '@app/database';
import { testEnv } from './harness';
import { ApiProcess, freePort, startApiProcess } from './api-process';
import { startWorker, WorkerProcess } from './worker';
import { Receiver, startReceiver } from './receiver';
import { ClientApp, codeFor, createClientApp, currentUser, exchangeCode } from './oauth';
import { loginUser, signUpUser, TestUser } from './accounts';
import { Row } from './db';
import { eventually } from './eventually';

const FAST = { WEBHOOK_BACKOFF_MS: '200', OUTBOX_RELAY_INTERVAL_MS: '100', OUTBOX_LOST_AFTER_SECONDS: '2', WORKER_LOCK_MS: '2000', WEBHOOK_TIMEOUT_MS: '3000' };

/** Every answer of the deployment that is a 5xx other than 503 (`temporarily_unavailable` for JSON, the error page for browsers). */
export class ServerErrorWatch {
  readonly wrong: string[] = [];
  readonly unavailable: string[] = [];
  private readonly original = globalThis.fetch;

  install(): void {
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
      const res = await this.original(input, init);
      if (res.status >= 500) {
        const what = `${res.status} ${init?.method ?? 'GET'} ${input instanceof Request ? input.url : input.toString()}`;
        const body = await res.clone().text();
        // JSON answers carry the contract's error; browser pages (authorize, consent) show the 503 error page.
        const clean = res.status === 503 && (body.includes('temporarily_unavailable') || (res.headers.get('content-type') ?? '').startsWith('text/html'));
        (clean ? this.unavailable : this.wrong).push(`${what} ${body.slice(0, 300)}`);
      }
      return res;
    };
  }

  uninstall(): void {
    globalThis.fetch = this.original;
  }
}

export interface Deployment {
  env: Record<string, string>;
  apis: ApiProcess[];
  workers: WorkerProcess[];
  receiver: Receiver;
  db: DataSource;
  app: ClientApp;
  stop(): Promise<void>;
}

/** `extraEnv` goes to every process (e.g. the SMTP sink and DNS server of a relay drill). */
export async function startDeployment(redisUrl: string, extraEnv: Record<string, string> = {}): Promise<Deployment> {
  const ports = [await freePort(), await freePort()];
  const env = testEnv({ ...FAST, ...extraEnv, REDIS_URL: redisUrl, PUBLIC_URL: `http://127.0.0.1:${ports[0]}` });
  await migrate(loadConfig(env));
  const db = await new DataSource(dataSourceOptions(loadConfig(env))).initialize();
  const receiver = await startReceiver();
  const apis: ApiProcess[] = [];
  const workers: WorkerProcess[] = [];
  const stop = async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop('SIGKILL').catch(() => undefined)));
    await receiver.close();
    await db.destroy();
    await dropDatabase(env.DATABASE_URL);
  };
  try {
    apis.push(...(await Promise.all(ports.map((port) => startApiProcess(env, port)))));
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
    const app = await createClientApp(apis[0].baseUrl);
    const patched = await fetch(`${apis[1].baseUrl}/api/developer/applications/${app.id}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ webhookUrl: receiver.url }),
    });
    if (patched.status !== 200) throw new Error(`webhook setup: ${patched.status}`);
    return { env, apis, workers, receiver, db, app, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One sign-in as a client app sees it: sign-up on one API, authorize on the
 * other, code exchange, /api/user. Throws on any failed step.
 */
export async function signInOnce(d: Deployment, n: number, acknowledged: TestUser[]): Promise<void> {
  const [a, b] = n % 2 === 0 ? d.apis : [...d.apis].reverse();
  const user = await signUpUser(a.baseUrl);
  acknowledged.push(user);
  const { code, verifier } = await codeFor(b.baseUrl, d.app, user);
  const { res, body } = await exchangeCode(a.baseUrl, d.app, { code, code_verifier: verifier });
  if (res.status !== 200) throw new Error(`token: ${res.status}`);
  const me = await currentUser(b.baseUrl, body.access_token);
  if (me.res.status !== 200) throw new Error(`/api/user: ${me.res.status}`);
}

interface Attempt {
  startedAt: number;
  ok: boolean;
  error?: string;
}

/** Sign-ins in `lanes` concurrent loops until stopped. */
export class SignInStream {
  readonly attempts: Attempt[] = [];
  readonly acknowledged: TestUser[] = [];
  private running = true;
  private readonly lanes: Promise<void>[];

  constructor(
    private readonly d: Deployment,
    lanes = 4,
  ) {
    let n = 0;
    this.lanes = Array.from({ length: lanes }, async () => {
      while (this.running) {
        const attempt: Attempt = { startedAt: Date.now(), ok: false };
        this.attempts.push(attempt);
        try {
          await signInOnce(this.d, n++, this.acknowledged);
          attempt.ok = true;
        } catch (error) {
          // A 503 or a refused connection during the switch: the watch checks no 500 was answered.
          attempt.error = (error as Error).message.slice(0, 200);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
  }

  succeededSince(time: number): number {
    return this.attempts.filter((a) => a.ok && a.startedAt >= time).length;
  }

  /** For a failure message: the attempts since `time` and their errors. */
  since(time: number): string {
    const recent = this.attempts.filter((a) => a.startedAt >= time);
    return `${recent.filter((a) => a.ok).length} of ${recent.length} ok; errors: ${JSON.stringify(recent.filter((a) => a.error).map((a) => `+${a.startedAt - time} ms ${a.error}`))}`;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }
}

/**
 * Runs sign-ins, `fail()`s Redis once some succeeded, and checks the contract:
 * sign-ins succeed again within 30 s of `recovered()` turning true (the
 * promotion), through both APIs, with no restart; then every acknowledged
 * user logs in and every committed webhook event is delivered.
 */
export async function failoverDrill(
  d: Deployment,
  watch: ServerErrorWatch,
  fail: () => Promise<void>,
  promoted: () => Promise<boolean>,
): Promise<{ failedAttempts: number; recoverySeconds: number }> {
  const stream = new SignInStream(d);
  let promotedAt = 0;
  try {
    await eventually(() => stream.succeededSince(0) >= 8, 'sign-ins before the failover', 60_000);
    const failedAt = Date.now();
    await fail();
    await eventually(promoted, 'the promotion', 30_000);
    promotedAt = Date.now();
    await eventually(() => stream.succeededSince(promotedAt) >= 4, 'sign-ins to succeed again after the promotion', 30_000).catch((error: Error) => {
      const logs = d.apis.map((api) => api.output().slice(-3000)).join('\n---\n');
      throw new Error(`${error.message}: ${stream.since(promotedAt)}; since the failure: ${stream.since(failedAt)}\nAPI output:\n${logs}`);
    });
    const recoverySeconds = (Date.now() - failedAt) / 1000;
    await stream.stop();
    // Everything works again on every API process, without a restart: sequential sign-ins, each must succeed.
    for (let i = 0; i < 4; i++) await signInOnce(d, i, stream.acknowledged);
    for (const p of [...d.apis, ...d.workers]) expect(p.child.exitCode).toBeNull();
    await expectNothingLost(d, stream.acknowledged);
    expect(watch.wrong).toEqual([]);
    return { failedAttempts: stream.attempts.filter((a) => !a.ok).length, recoverySeconds };
  } finally {
    await stream.stop();
  }
}

/** Every acknowledged sign-up logs in (MySQL kept it); every committed webhook event reaches the receiver. */
async function expectNothingLost(d: Deployment, acknowledged: TestUser[]): Promise<void> {
  for (const [i, user] of acknowledged.entries()) await loginUser(d.apis[i % 2].baseUrl, user.email, user.password);
  await eventually(
    async () => {
      const [{ waiting }] = await d.db.query<Row[]>(`SELECT COUNT(*) AS waiting FROM webhook_events WHERE application_id = ? AND status <> 'delivered'`, [d.app.id]);
      return Number(waiting) === 0;
    },
    'every webhook event delivered',
    60_000,
  );
  // One user_connected event per connection made (its consent committed), whatever the answer to the browser was.
  const [{ connections }] = await d.db.query<Row[]>('SELECT COUNT(*) AS connections FROM connections WHERE application_id = ?', [d.app.id]);
  const events = await d.db.query<{ id: string }[]>(`SELECT id FROM webhook_events WHERE application_id = ? AND type = 'user_connected'`, [d.app.id]);
  expect(events).toHaveLength(Number(connections));
  const received = new Set(d.receiver.received.filter((h) => (h.status ?? 500) < 300).map((h) => String(h.headers['webhook-id'])));
  for (const e of events) expect(received.has(e.id)).toBe(true);
}
