// The cost of account checks, side by side in one run:
//   1. argon2id: PasswordHasher.verify and .hash, ms per call (in this process)
//   2. TOTP: matchTotpStep (the code check of the second sign-in step), us per call
//   3. POST /api/account/login (JSON) through one production API process:
//      logins/s, p50/p99 without two-step and with two-step (password + otp)
//   4. POST /api/account/signup with the per-IP limits on:
//      a. one client IP, default SIGNUP_LIMIT_PER_IP_PER_HOUR (20): accepted before
//         the first 429, and the time per refused request
//      b. RATE_LIMIT_ALLOWLIST=127.0.0.1 (no limit for that IP): sign-ups/s, p50/p99
//
//   npm run bench:accounts [-- --hash-calls=30 --totp-calls=20000 --logins=40 --signups=40 --concurrency=4 --keep]
//
// Own database (loginsign_bench_accounts, dropped at the end unless --keep) and
// Redis prefix. Exits non-zero only on errors (a request without the expected answer).
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { authenticator } from 'otplib';
import { PasswordHasher } from '../../libs/common/src/password-hasher';
import { matchTotpStep, newTotpSecret } from '../../libs/common/src/two-step/totp';
import { codeState, quietMachine } from '../lib/machine';
import { fmt, mapConcurrent, ms, percentile } from '../lib/measure';
import { setCookie } from '../lib/portal';
import { runBench, Service, startService, waitHttpOk } from '../lib/processes';
import { writeFigures } from '../lib/results';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';

const args = parseArgs();
const HASH_CALLS = args.num('hash-calls', 30);
const TOTP_CALLS = args.num('totp-calls', 20_000);
const LOGINS = args.num('logins', 40);
const SIGNUPS = args.num('signups', 40);
const CONCURRENCY = args.num('concurrency', 4);
const SIGNUP_LIMIT = 20; // the default SIGNUP_LIMIT_PER_IP_PER_HOUR
const LIMITED_ATTEMPTS = SIGNUP_LIMIT + 20;
const DATABASE_URL = databaseUrl('loginsign_bench_accounts');
const REDIS_PREFIX = uniqueRedisPrefix('accounts');
const PASSWORD = 'correct horse battery staple';
const CPU_COUNT = cpus().length;
// Waits for a quiet machine only briefly: the bench stays within ~2 minutes (a busy machine is reported as a warning).
const QUIET_WAIT_MS = 5_000;

interface Timing {
  /** Per-call times, ms. */
  times: number[];
  /** Wall time of the whole run, s. */
  seconds: number;
}

const stats = (t: number[]) => ({ p50: percentile(t, 50), p99: percentile(t, 99), min: Math.min(...t), max: Math.max(...t) });

/** Runs `fn` `count` times, `concurrency` at a time; the time of each call and the wall time. */
async function timed(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<Timing> {
  const times: number[] = [];
  const started = performance.now();
  await mapConcurrent(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const t0 = performance.now();
      await fn(i);
      times.push(performance.now() - t0);
    },
  );
  return { times, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------- HTTP

/** A minimal cookie jar: name -> value, from Set-Cookie headers. */
class Jar {
  private readonly cookies = new Map<string, string>();
  store(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value) this.cookies.set(pair.slice(0, eq).trim(), value);
      else this.cookies.delete(pair.slice(0, eq).trim());
    }
    return this;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const emailOf = (what: string, n: number) => `bench-${what}-${n}-${randomBytes(4).toString('hex')}@example.com`;

function postJson(baseUrl: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${(await res.text()).slice(0, 300)}`);
}

/** POST /api/account/signup; the status (the body is read). */
async function signUp(baseUrl: string, email: string): Promise<number> {
  const res = await postJson(baseUrl, '/api/account/signup', { name: 'Bench User', email, password: PASSWORD, region: 'Germany' });
  await res.arrayBuffer();
  return res.status;
}

/** A signed-up user with a session in `jar`. */
async function signedUp(baseUrl: string, n: number): Promise<{ email: string; jar: Jar }> {
  const email = emailOf('user', n);
  const res = await postJson(baseUrl, '/api/account/signup', { name: `Bench User ${n}`, email, password: PASSWORD, region: 'Germany' });
  await expectStatus(res, 201, 'user signup');
  await res.arrayBuffer();
  return { email, jar: new Jar().store(res) };
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

async function postForm(baseUrl: string, path: string, fields: Record<string, string>, jar: Jar): Promise<Response> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams(fields).toString(),
  });
  jar.store(res);
  return res;
}

/** Turns two-step sign-in on through the account pages (set-up with the password, confirm with a code); returns the secret. */
async function enableTwoStep(baseUrl: string, jar: Jar): Promise<string> {
  const page = await fetch(`${baseUrl}/account/security`, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.store(page);
  const csrf = csrfOf(await page.text());
  if (page.status !== 200 || !csrf) throw new Error(`GET /account/security: ${page.status}, csrf ${csrf ? 'found' : 'missing'}`);
  const setup = await postForm(baseUrl, '/account/security/two-step/setup', { _csrf: csrf, password: PASSWORD }, jar);
  const html = await setup.text();
  const secret = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(html)?.[1];
  const csrf2 = csrfOf(html);
  if (setup.status !== 200 || !secret || !csrf2) throw new Error(`two-step set-up: ${setup.status} ${html.slice(0, 300)}`);
  const confirmed = await postForm(baseUrl, '/account/security/two-step/confirm', { _csrf: csrf2, code: authenticator.generate(secret) }, jar);
  await expectStatus(confirmed, 200, 'two-step confirm');
  await confirmed.arrayBuffer();
  return secret;
}

// ---------------------------------------------------------------- API process

let api: Service | null = null;
/** Two-step set-ups answered 503 (retried). */
let setupRetries = 0;

async function startApi(extra: Record<string, string>): Promise<string> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  api = startService('api', 'dist/apps/api/src/main.js', benchEnv({ databaseUrl: DATABASE_URL, redisPrefix: REDIS_PREFIX, port, extra }));
  await waitHttpOk(`${baseUrl}/health/ready`, api);
  return baseUrl;
}

async function stopApi(): Promise<void> {
  await api?.stop();
  api = null;
}

// ---------------------------------------------------------------- phases

async function hashing(): Promise<{ verify: Timing; hash: Timing }> {
  console.log(`\n> 1. argon2id in this process: ${HASH_CALLS} x PasswordHasher.hash, ${HASH_CALLS} x .verify (one at a time)`);
  const hasher = new PasswordHasher();
  const stored = await hasher.hash(PASSWORD);
  await hasher.verify(stored, PASSWORD); // warm-up
  const hash = await timed(HASH_CALLS, 1, async () => {
    await hasher.hash(PASSWORD);
  });
  const verify = await timed(HASH_CALLS, 1, async () => {
    if (!(await hasher.verify(stored, PASSWORD))) throw new Error('PasswordHasher.verify: the right password did not verify');
  });
  return { verify, hash };
}

function totpCheck(): { times: number[]; usPerCall: number } {
  console.log(`\n> 2. TOTP: ${fmt(TOTP_CALLS)} x matchTotpStep (the code check of the second step: window of 1 step each side)`);
  const secret = newTotpSecret();
  const code = authenticator.generate(secret);
  for (let i = 0; i < 500; i++) matchTotpStep(secret, code); // warm-up
  // Batches of 100 calls (one call is below the timer's useful resolution): us per call per batch.
  const times: number[] = [];
  const started = performance.now();
  for (let done = 0; done < TOTP_CALLS; done += 100) {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) if (matchTotpStep(secret, code) === null) throw new Error('matchTotpStep: the current code did not match');
    times.push(((performance.now() - t0) * 1000) / 100);
  }
  return { times, usPerCall: ((performance.now() - started) * 1000) / TOTP_CALLS };
}

interface LoginResults {
  plain: Timing;
  twoStep: Timing;
  errors: string[];
}

/** 3. JSON logins: `LOGINS` without two-step (over 4 users), `LOGINS` with it (one two-step user per login: a code's step is accepted once). */
async function logins(baseUrl: string): Promise<LoginResults> {
  console.log(`\n> 3. POST /api/account/login: setting up 4 users and ${LOGINS} users with two-step sign-in (account pages)`);
  const plainUsers = await mapConcurrent([0, 1, 2, 3], CONCURRENCY, (n) => signedUp(baseUrl, n));
  const twoStepUsers = await mapConcurrent(
    Array.from({ length: LOGINS }, (_, i) => i),
    1,
    async (n) => {
      const user = await signedUp(baseUrl, 100 + n);
      // One at a time, and a 503 (a MySQL deadlock between concurrent first writes) is retried.
      for (let attempt = 1; ; attempt++) {
        try {
          return { email: user.email, secret: await enableTwoStep(baseUrl, user.jar) };
        } catch (error) {
          if (!/got 503/.test((error as Error).message) || attempt >= 5) throw error;
          setupRetries++;
        }
      }
    },
    (done) => done % 20 === 0 && console.log(`    two-step on for ${done}/${LOGINS}`),
  );
  if (setupRetries) console.log(`    ${setupRetries} two-step set-up(s) answered 503 and were retried`);
  const errors: string[] = [];
  const check = async (res: Response, what: string) => {
    const body = await res.text();
    if (res.status !== 200 || !setCookie(res, 'ls_session')) errors.push(`${what}: ${res.status} ${body.slice(0, 120)}`);
  };
  // The two-step check refuses a code without a password (mfa_required): make sure that holds before timing.
  const probe = await postJson(baseUrl, '/api/account/login', { email: twoStepUsers[0].email, password: PASSWORD });
  const probeBody = await probe.text();
  if (probe.status === 200) throw new Error(`login of a two-step user without otp answered 200: ${probeBody.slice(0, 200)}`);

  await quietMachine(0.3, QUIET_WAIT_MS);
  console.log(`    ${LOGINS} logins without two-step, ${CONCURRENCY} concurrent`);
  const plain = await timed(LOGINS, CONCURRENCY, async (i) => {
    const user = plainUsers[i % plainUsers.length];
    await check(await postJson(baseUrl, '/api/account/login', { email: user.email, password: PASSWORD }), 'login');
  });
  await quietMachine(0.3, QUIET_WAIT_MS);
  console.log(`    ${LOGINS} logins with two-step (password + otp), ${CONCURRENCY} concurrent`);
  const twoStep = await timed(LOGINS, CONCURRENCY, async (i) => {
    const user = twoStepUsers[i];
    // The set-up used the current step; the next step's code is newer and inside the accepted window.
    const otp = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(user.secret);
    await check(await postJson(baseUrl, '/api/account/login', { email: user.email, password: PASSWORD, otp }), 'login with otp');
  });
  return { plain, twoStep, errors };
}

/** 4b. Sign-ups from an allowlisted IP: argon2-bound throughput. */
async function signUpsAllowlisted(baseUrl: string): Promise<{ timing: Timing; errors: string[] }> {
  await quietMachine(0.3, QUIET_WAIT_MS);
  console.log(`\n> 4b. ${SIGNUPS} sign-ups from 127.0.0.1 with RATE_LIMIT_ALLOWLIST=127.0.0.1, ${CONCURRENCY} concurrent`);
  const errors: string[] = [];
  const timing = await timed(SIGNUPS, CONCURRENCY, async (i) => {
    const status = await signUp(baseUrl, emailOf('allow', i));
    if (status !== 201) errors.push(`signup ${status}`);
  });
  return { timing, errors };
}

interface LimitedResults {
  accepted: number;
  firstRefused: number;
  acceptedTimes: number[];
  refusedTimes: number[];
  errors: string[];
}

/** 4a. Sign-ups from one IP with the default per-IP limit, one at a time. */
async function signUpsLimited(baseUrl: string): Promise<LimitedResults> {
  await quietMachine(0.3, QUIET_WAIT_MS);
  console.log(`\n> 4a. ${LIMITED_ATTEMPTS} sign-ups from 127.0.0.1 with the default limit (${SIGNUP_LIMIT}/hour per IP), one at a time`);
  const r: LimitedResults = { accepted: 0, firstRefused: 0, acceptedTimes: [], refusedTimes: [], errors: [] };
  for (let i = 0; i < LIMITED_ATTEMPTS; i++) {
    const t0 = performance.now();
    const status = await signUp(baseUrl, emailOf('limited', i));
    const took = performance.now() - t0;
    if (status === 201) {
      if (r.refusedTimes.length) r.errors.push(`attempt ${i + 1} accepted after a refusal`);
      r.accepted++;
      r.acceptedTimes.push(took);
    } else if (status === 429) {
      if (!r.firstRefused) r.firstRefused = i + 1;
      r.refusedTimes.push(took);
    } else r.errors.push(`attempt ${i + 1}: ${status}`);
  }
  if (r.accepted !== SIGNUP_LIMIT) r.errors.push(`${r.accepted} accepted, expected ${SIGNUP_LIMIT}`);
  return r;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  await buildAndCheck();
  await quietMachine(0.3, QUIET_WAIT_MS);
  console.log(`> database ${new URL(DATABASE_URL).pathname.slice(1)} (fresh), Redis prefix ${REDIS_PREFIX}`);
  await freshDatabase(DATABASE_URL);

  const { verify, hash } = await hashing();
  const totp = totpCheck();

  console.log('\n> starting the API (dist/apps/api/src/main.js, NODE_ENV=production, RATE_LIMIT_ALLOWLIST=127.0.0.1)');
  let baseUrl = await startApi({ RATE_LIMIT_ALLOWLIST: '127.0.0.1' });
  const login = await logins(baseUrl);
  const allow = await signUpsAllowlisted(baseUrl);
  await stopApi();

  console.log('\n> restarting the API without RATE_LIMIT_ALLOWLIST (the default per-IP limits for 127.0.0.1)');
  baseUrl = await startApi({ RATE_LIMIT_ALLOWLIST: '' });
  const limited = await signUpsLimited(baseUrl);
  await stopApi();

  // ---------------------------------------------------------------- report
  const v = stats(verify.times);
  const h = stats(hash.times);
  const t = stats(totp.times);
  const lp = stats(login.plain.times);
  const l2 = stats(login.twoStep.times);
  const sa = stats(allow.timing.times);
  const refused = stats(limited.refusedTimes);
  const acceptedLimited = stats(limited.acceptedTimes);
  const us = (n: number) => `${n.toFixed(1)} us`;
  const rate = (timing: Timing) => timing.times.length / timing.seconds;
  const rows: string[][] = [
    ['1', 'argon2id PasswordHasher.verify', `${HASH_CALLS} calls, 1 at a time`, ms(v.p50), ms(v.min), ms(v.max), '', ''],
    ['1', 'argon2id PasswordHasher.hash', `${HASH_CALLS} calls, 1 at a time`, ms(h.p50), ms(h.min), ms(h.max), '', ''],
    ['2', 'TOTP matchTotpStep', `${fmt(TOTP_CALLS)} calls`, us(t.p50), us(t.min), us(t.max), '', ''],
    ['3', 'POST /api/account/login', `${LOGINS}, ${CONCURRENCY} concurrent`, ms(lp.p50), ms(lp.min), ms(lp.max), `${fmt(rate(login.plain), 1)} /s`, ms(lp.p99)],
    ['3', 'login with two-step (otp)', `${LOGINS}, ${CONCURRENCY} concurrent`, ms(l2.p50), ms(l2.min), ms(l2.max), `${fmt(rate(login.twoStep), 1)} /s`, ms(l2.p99)],
    [
      '4a',
      'signup, default limit: accepted',
      `${limited.accepted} of ${LIMITED_ATTEMPTS}, 1 at a time`,
      ms(acceptedLimited.p50),
      ms(acceptedLimited.min),
      ms(acceptedLimited.max),
      '',
      ms(acceptedLimited.p99),
    ],
    [
      '4a',
      'signup, default limit: 429',
      `${limited.refusedTimes.length} of ${LIMITED_ATTEMPTS}, 1 at a time`,
      ms(refused.p50),
      ms(refused.min),
      ms(refused.max),
      '',
      ms(refused.p99),
    ],
    ['4b', 'signup, IP allowlisted', `${SIGNUPS}, ${CONCURRENCY} concurrent`, ms(sa.p50), ms(sa.min), ms(sa.max), `${fmt(rate(allow.timing), 1)} /s`, ms(sa.p99)],
  ];
  console.log('');
  printTable(['', 'figure', 'calls', 'median', 'min', 'max', 'rate', 'p99'], rows);
  console.log('');
  console.log(
    `4a: ${limited.accepted} sign-ups accepted, the first 429 at attempt ${limited.firstRefused || '-'}; ` +
      `a refused sign-up takes ${ms(refused.p50)} (median) against ${ms(acceptedLimited.p50)} for an accepted one (no argon2 hash)`,
  );
  console.log(`2: ${us(totp.usPerCall)} per check on average (checks up to 3 steps: previous, current, next)`);
  console.log(`machine: ${CPU_COUNT} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${codeState()}`);
  console.log('API: 1 process (node dist/apps/api/src/main.js), NODE_ENV=production, LOG_LEVEL=warn; clients (fetch) in this process on the same machine');
  console.log('1 and 2 run in this process (argon2 on the libuv thread pool); 3 and 4 through the API, each time from request to response');

  writeFigures('accounts', [
    { key: 'verify_ms', label: 'argon2id PasswordHasher.verify (median)', value: v.p50, unit: 'ms', note: `min ${ms(v.min)}, max ${ms(v.max)}` },
    { key: 'hash_ms', label: 'argon2id PasswordHasher.hash (median)', value: h.p50, unit: 'ms', note: `min ${ms(h.min)}, max ${ms(h.max)}` },
    { key: 'totp_us', label: 'TOTP code check, matchTotpStep (median)', value: t.p50, unit: 'us' },
    { key: 'login_rps', label: 'POST /api/account/login', value: rate(login.plain), unit: '/s', note: `p50 ${ms(lp.p50)}, p99 ${ms(lp.p99)}, ${CONCURRENCY} concurrent` },
    {
      key: 'login_2fa_rps',
      label: 'POST /api/account/login with otp',
      value: rate(login.twoStep),
      unit: '/s',
      note: `p50 ${ms(l2.p50)}, p99 ${ms(l2.p99)}, ${CONCURRENCY} concurrent`,
    },
    {
      key: 'signup_limited_accepted',
      label: 'sign-ups accepted from one IP (default limit)',
      value: limited.accepted,
      unit: 'sign-ups',
      target: `${SIGNUP_LIMIT}`,
      met: limited.accepted === SIGNUP_LIMIT,
    },
    { key: 'signup_refused_ms', label: 'refused sign-up (429), median', value: refused.p50, unit: 'ms', note: `p99 ${ms(refused.p99)}` },
    { key: 'signup_rps', label: 'sign-ups, IP allowlisted', value: rate(allow.timing), unit: '/s', note: `p50 ${ms(sa.p50)}, p99 ${ms(sa.p99)}, ${CONCURRENCY} concurrent` },
  ]);
  const errors = [...login.errors, ...allow.errors, ...limited.errors];
  if (errors.length) {
    console.log(`\nERROR: ${errors.length} unexpected answer(s): ${errors.slice(0, 5).join('; ')}`);
    return 1;
  }
  return 0;
}

runBench(main, async () => {
  if (args.keep) console.log(`> --keep: database ${new URL(DATABASE_URL).pathname.slice(1)} and Redis prefix ${REDIS_PREFIX} kept`);
  else {
    await dropDatabase(DATABASE_URL);
    await deleteRedisPrefix(REDIS_PREFIX);
    console.log('> dropped the bench database and its Redis keys');
  }
});
