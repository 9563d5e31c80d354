// LoginSign against its open-source peer, side by side in one run (issue 17):
// node-oidc-provider 9.13.3 (bench/peer/peer-server.ts, Redis adapter) and one
// production LoginSign API (+ worker + relay, for the memory figure), one server
// at a time, the same returning-user flow, the same load generator:
//   sign-ins   authorize (session + remembered consent: 303 + code) -> token -> profile
//   exchanges  POST token, one fresh code per request (PKCE S256, client_secret_basic)
//   profile    GET /me (peer userinfo) / GET /api/user (LoginSign), rotating tokens
// plus the bare node:http server of `npm run bench` answering /api/user's JSON.
// Each phase: warm-up, then --rounds rounds of --duration s; medians with min-max,
// p50/p99, CPU per operation of the server and of MariaDB + Redis, peak RSS.
//
//   npm run bench:peer [-- --quick] [-- --rounds=3 --duration=10 --warmup=3 --connections=50 --users=200 --keep]
//   BENCH_PROFILE=1 npm run bench:peer   also CPU-profiles LoginSign's API in each phase's last round
//   npm run bench:peer -- --only-loginsign   LoginSign alone (no peer, no baseline, no figures written): for profiling
//
// --quick: 3 rounds of 3 s, 1 s warm-up, 100 users. Exits non-zero only on errors, never on a missed goal.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { codeState, quietMachine } from '../lib/machine';
import { CpuSampler, fmt, mapConcurrent, mb, ms, percentile, rssBytes } from '../lib/measure';
import { BenchUser, createDeveloperApp, setCookie, signUpUser } from '../lib/portal';
import { findServerPids, root, runBench, Service, startService, waitHttpOk } from '../lib/processes';
import { profileDir, WindowProfiler } from '../lib/profile';
import { Figure, writeFigures } from '../lib/results';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';
import { codeFrom, hiddenInputs, REDIRECT_URI } from '../lib/authorize-answers';

const QUICK = process.argv.includes('--quick');
const args = parseArgs(process.argv.slice(2).filter((a) => a !== '--quick'));
const ROUNDS = args.num('rounds', 3);
const DURATION = args.num('duration', QUICK ? 3 : 10);
const WARMUP = args.num('warmup', QUICK ? 1 : 3);
const CONNECTIONS = args.num('connections', 50);
const USERS = args.num('users', QUICK ? 100 : 200);
const ONLY_LOGINSIGN = args.flag('only-loginsign');
const DATABASE_URL = databaseUrl('loginsign_bench_peer');
const REDIS_PREFIX = uniqueRedisPrefix('peer');
const PEER_REDIS_PREFIX = uniqueRedisPrefix('peer-oidc');
const SCOPE = 'openid profile email';
const PROFILE_DIR = profileDir('peer');
const CPU_COUNT = cpus().length;

/** The goals of issue 17, as ratios measured in one run. */
const GOAL = { signIns: 2, exchanges: 2, profileVsPeer: 2, profileVsBare: 0.4, p99OverP50: 3, apiRssMb: 250, allRssMb: 400 };

type PhaseName = 'signins' | 'exchanges' | 'profile';

/** One server under test, as the load generator sees it. */
interface Target {
  name: 'peer' | 'LoginSign' | 'bare node:http';
  baseUrl: string;
  /** The process that answers HTTP first; the others are counted for CPU and memory. */
  processes: { name: string; pid: number }[];
  authorizePath(challenge: string, state: string): string;
  tokenPath: string;
  profilePath: string;
  basicAuth: string;
  /** Cookie header of each signed-in user. */
  cookies: string[];
}

interface Round {
  rate: number;
  p50: number;
  p99: number;
  ops: number;
  /** CPU milliseconds per operation: the server's processes, MariaDB + Redis. */
  serverCpuMs: number;
  storeCpuMs: number;
  otherCores: number;
  errors: string[];
}

interface PhaseResult {
  rounds: Round[];
  rssPeak: number;
  rssPeakAll: number;
  profile: string[] | null;
}

type Results = Partial<Record<PhaseName, PhaseResult>>;

let current: autocannon.Instance | null = null;

// ---------------------------------------------------------------- OAuth pieces

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeQuery(clientId: string, challenge: string, state: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
}

const tokenBody = (code: string, verifier: string) =>
  new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString();

const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A response header from autocannon's parsed headers (the peer's Koa sends `Location`, fastify `location`). */
function header(headers: Record<string, string>, name: string): string | undefined {
  return headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** A returning sign-in done once by hand, to check a target before loading it. */
async function checkFlow(t: Target, cookie: string): Promise<void> {
  const { verifier, challenge } = pkce();
  const auth = await fetch(`${t.baseUrl}${t.authorizePath(challenge, 'check')}`, { redirect: 'manual', headers: { cookie } });
  await auth.arrayBuffer();
  const code = codeFrom(auth.headers.get('location'), 'check');
  if (auth.status !== 303 || !code) throw new Error(`${t.name}: returning authorize answered ${auth.status} ${auth.headers.get('location')}`);
  const token = await fetch(`${t.baseUrl}${t.tokenPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: t.basicAuth },
    body: tokenBody(code, verifier),
  });
  const body = (await token.json()) as { access_token?: string };
  if (token.status !== 200 || !body.access_token) throw new Error(`${t.name}: token ${token.status} ${JSON.stringify(body)}`);
  const profile = await fetch(`${t.baseUrl}${t.profilePath}`, { headers: { authorization: `Bearer ${body.access_token}` } });
  const text = await profile.text();
  if (profile.status !== 200) throw new Error(`${t.name}: ${t.profilePath} ${profile.status} ${text}`);
}

// ---------------------------------------------------------------- setup of each server

/** LoginSign: developer + application, users signed up and consented once (as bench:signin). */
async function setUpLoginSign(api: Service, others: Service[], baseUrl: string): Promise<Target> {
  const app = await createDeveloperApp(baseUrl, REDIRECT_URI);
  const target: Target = {
    name: 'LoginSign',
    baseUrl,
    processes: [api, ...others].map((s) => ({ name: s.name, pid: s.pid })),
    authorizePath: (challenge, state) => `/oauth/authorize?${authorizeQuery(app.clientId, challenge, state)}`,
    tokenPath: '/oauth/token',
    profilePath: '/api/user',
    basicAuth: basic(app.clientId, app.clientSecret),
    cookies: [],
  };
  console.log(`> LoginSign: signing up ${USERS} users and consenting once each`);
  const users = await mapConcurrent(
    Array.from({ length: USERS }, (_, i) => i),
    8,
    (i) => signUpUser(baseUrl, i),
  );
  const consent = async (user: BenchUser) => {
    for (let attempt = 1; ; attempt++) {
      const page = await fetch(`${baseUrl}${target.authorizePath(pkce().challenge, 's')}`, { redirect: 'manual', headers: { cookie: user.cookie } });
      const html = await page.text();
      if (page.status !== 200) throw new Error(`consent page: ${page.status} ${html.slice(0, 300)}`);
      const csrf = setCookie(page, 'ls_csrf');
      const decision = await fetch(`${baseUrl}/oauth/authorize/decision`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${user.cookie}; ${csrf}` },
        body: new URLSearchParams({ ...hiddenInputs(html), share: 'relay', decision: 'allow' }).toString(),
      });
      await decision.arrayBuffer();
      if (decision.status === 303) return;
      // Concurrent first consents to one application can deadlock in MySQL (503): retried, as bench:signin does.
      if (decision.status !== 503 || attempt >= 10) throw new Error(`consent decision: ${decision.status}`);
    }
  };
  await consent(users[0]);
  await mapConcurrent(users.slice(1), 8, consent);
  target.cookies = users.map((u) => u.cookie);
  await checkFlow(target, target.cookies[0]);
  return target;
}

/** A minimal cookie jar for the peer's first sign-in (interaction, resume, session cookies). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const m = /^([^=]+)=([^;]*)/.exec(line);
      if (!m) continue;
      if (m[2] && !/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.set(m[1], m[2]);
      else this.cookies.delete(m[1]);
    }
  }

  header(only?: (name: string) => boolean): string {
    return [...this.cookies]
      .filter(([name]) => !only || only(name))
      .map(([n, v]) => `${n}=${v}`)
      .join('; ');
  }
}

/** The peer: one sign-in per user through its interaction (login_hint logs in), following redirects by hand. */
async function setUpPeer(peer: Service, baseUrl: string, clientId: string, clientSecret: string): Promise<Target> {
  const target: Target = {
    name: 'peer',
    baseUrl,
    processes: [{ name: peer.name, pid: peer.pid }],
    authorizePath: (challenge, state) => `/auth?${authorizeQuery(clientId, challenge, state)}`,
    tokenPath: '/token',
    profilePath: '/me',
    basicAuth: basic(clientId, clientSecret),
    cookies: [],
  };
  console.log(`> peer: first sign-in of ${USERS} users (login via the interaction, consent granted once)`);
  const firstSignIn = async (n: number) => {
    const jar = new CookieJar();
    let url = `${baseUrl}/auth?${authorizeQuery(clientId, pkce().challenge, 'first', { login_hint: `user-${n}` })}`;
    for (let hop = 0; hop < 6; hop++) {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
      await res.arrayBuffer();
      jar.take(res);
      const location = res.headers.get('location');
      if (res.status !== 303 && res.status !== 302) throw new Error(`peer first sign-in: ${res.status} at ${url}`);
      if (codeFrom(location)) return jar.header((name) => name.startsWith('_session'));
      url = new URL(location!, baseUrl).toString();
    }
    throw new Error('peer first sign-in: too many redirects');
  };
  target.cookies = await mapConcurrent(
    Array.from({ length: USERS }, (_, i) => i),
    8,
    firstSignIn,
  );
  await checkFlow(target, target.cookies[0]);
  return target;
}

// ---------------------------------------------------------------- load

function runCannon<C = Record<string, unknown>>(opts: autocannon.Options<C>): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    current = autocannon({ timeout: 10, ...opts }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

interface FlowContext {
  verifier?: string;
  state?: string;
  code?: string | null;
  token?: string | null;
  started?: number;
}

/** Load-run outcome before CPU is attached. */
interface Load {
  rate: number;
  p50: number;
  p99: number;
  ops: number;
  seconds: number;
  errors: string[];
}

function statusErrors(result: autocannon.Result, ok: number): string[] {
  const bad = Object.entries(result.statusCodeStats)
    .filter(([code]) => Number(code) !== ok)
    .map(([code, s]) => `${s.count}x ${code}`);
  if (result.errors) bad.push(`${result.errors} socket errors`);
  return bad;
}

/** Authorize -> token -> profile as one unit per connection. */
async function signIns(t: Target, duration: number): Promise<Load> {
  let n = 0;
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const result = await runCannon<FlowContext>({
    url: t.baseUrl,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'GET',
        setupRequest: (req, context) => {
          const { verifier, challenge } = pkce();
          context.verifier = verifier;
          context.state = randomBytes(6).toString('hex');
          context.started = performance.now();
          return { ...req, path: t.authorizePath(challenge, context.state), headers: { cookie: t.cookies[n++ % t.cookies.length] } };
        },
        onResponse: (status, _body, context, headers) => {
          context.code = status === 303 ? codeFrom(header(headers, 'location'), context.state) : null;
          if (!context.code) fail(`authorize ${status}`);
        },
      },
      {
        method: 'POST',
        path: t.tokenPath,
        setupRequest: (req, context) =>
          context.code
            ? { ...req, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: t.basicAuth }, body: tokenBody(context.code, context.verifier!) }
            : null,
        onResponse: (status, body, context) => {
          context.token = status === 200 ? (JSON.parse(body) as { access_token?: string }).access_token : null;
          if (!context.token) fail(`token ${status}`);
        },
      },
      {
        method: 'GET',
        path: t.profilePath,
        setupRequest: (req, context) => (context.token ? { ...req, headers: { authorization: `Bearer ${context.token}` } } : null),
        onResponse: (status, _body, context) => {
          if (status === 200) latencies.push(performance.now() - context.started!);
          else fail(`profile ${status}`);
        },
      },
    ],
  });
  const errors = [...failures].map(([why, count]) => `${count}x ${why}`);
  if (result.errors) errors.push(`${result.errors} socket errors`);
  return { rate: latencies.length / result.duration, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ops: latencies.length, seconds: result.duration, errors };
}

interface Code {
  code: string;
  verifier: string;
}

/** Fresh codes: authorize with a session (remembered consent -> 303). */
async function generateCodes(t: Target, count: number): Promise<Code[]> {
  const pool: Code[] = [];
  let n = 0;
  let failures = 0;
  await runCannon<FlowContext>({
    url: t.baseUrl,
    connections: CONNECTIONS,
    amount: count,
    requests: [
      {
        method: 'GET',
        setupRequest: (req, context) => {
          const { verifier, challenge } = pkce();
          context.verifier = verifier;
          return { ...req, path: t.authorizePath(challenge, 'pool'), headers: { cookie: t.cookies[n++ % t.cookies.length] } };
        },
        onResponse: (status, _body, context, headers) => {
          const code = status === 303 ? codeFrom(header(headers, 'location')) : null;
          if (code) pool.push({ code, verifier: context.verifier! });
          else failures++;
        },
      },
    ],
  });
  if (failures) throw new Error(`${t.name}: ${failures} authorize responses without a code while generating codes`);
  return pool;
}

/** Exchanges from a pool; the rate counts only until the pool ran out. Access tokens are kept for the profile phase. */
async function exchanges(t: Target, pool: Code[], duration: number, tokens?: string[]): Promise<Load> {
  let next = 0;
  let exhaustedAt = 0;
  const startedAt = performance.now();
  const result = await runCannon<FlowContext>({
    url: t.baseUrl,
    connections: CONNECTIONS,
    duration,
    excludeErrorStats: true,
    requests: [
      {
        method: 'POST',
        path: t.tokenPath,
        setupRequest: (req) => {
          const item = pool[next++];
          const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: t.basicAuth };
          if (!item) {
            if (!exhaustedAt) exhaustedAt = performance.now();
            current?.stop();
            return { ...req, headers, body: tokenBody('pool-exhausted', 'x'.repeat(43)) };
          }
          return { ...req, headers, body: tokenBody(item.code, item.verifier) };
        },
        onResponse: (status, body) => {
          if (status === 200 && tokens && tokens.length < 5000) tokens.push((JSON.parse(body) as { access_token: string }).access_token);
        },
      },
    ],
  });
  const seconds = exhaustedAt ? (exhaustedAt - startedAt) / 1000 : result.duration;
  const placeholders = exhaustedAt ? next - pool.length : 0;
  const errors = statusErrors(result, 200).filter((e) => !(placeholders && / 400$/.test(e)));
  return { rate: result['2xx'] / seconds, p50: result.latency.p50, p99: result.latency.p99, ops: result['2xx'], seconds, errors };
}

async function profileRequests(t: Target, tokens: string[], duration: number): Promise<Load> {
  let i = 0;
  const result = await runCannon({
    url: t.baseUrl,
    connections: CONNECTIONS,
    duration,
    requests: [{ method: 'GET', path: t.profilePath, setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${tokens[i++ % tokens.length]}` } }) }],
  });
  return {
    rate: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ops: result['2xx'],
    seconds: result.duration,
    errors: statusErrors(result, 200),
  };
}

/** Peak RSS of one process and of a group (sum sampled together). */
class GroupRss {
  peak = 0;
  peakAll = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: number[]) {}

  private sample() {
    const each = this.pids.map(rssBytes);
    this.peak = Math.max(this.peak, each[0]);
    this.peakAll = Math.max(
      this.peakAll,
      each.reduce((a, b) => a + b, 0),
    );
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Warm-up, then ROUNDS measured rounds of one phase; CPU per round, RSS and (LoginSign, BENCH_PROFILE=1) a profile over all rounds. */
async function phase(
  t: Target,
  name: PhaseName,
  once: (duration: number, round: number) => Promise<Load>,
  profiler: WindowProfiler | null,
  /** Unmeasured preparation before each round (the exchange phase's code pool). */
  prepare?: (duration: number) => Promise<void>,
): Promise<PhaseResult> {
  console.log(`> ${t.name} ${name}: warm-up ${WARMUP}s, then ${ROUNDS} x ${DURATION}s with ${CONNECTIONS} connections`);
  await prepare?.(WARMUP);
  await once(WARMUP, 0);
  const rss = new GroupRss(t.processes.map((p) => p.pid)).start();
  const stores = findServerPids();
  const rounds: Round[] = [];
  let profile: string[] | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    await prepare?.(DURATION);
    // The profile covers the last round (the profiler slows the API: its rate is reported as measured).
    const profiled = profiler && round === ROUNDS;
    if (profiled) profiler.start();
    const cpu = new CpuSampler({ server: t.processes.map((p) => p.pid), mariadb: stores.mysql, redis: stores.redis, bench: [process.pid] }).start();
    const load = await once(DURATION, round);
    const cores = cpu.stop();
    if (profiled) {
      const { file, lines } = await profiler.stop();
      profile = lines;
      console.log(`    profile of round ${round}: ${file}`);
      for (const line of lines) console.log(`      ${line}`);
    }
    const cpuMsPerOp = (c: number) => (load.ops ? (c * cpu.seconds * 1000) / load.ops : NaN);
    const otherCores = Math.max(0, cores.machine - cores.server - cores.mariadb - cores.redis - cores.bench);
    rounds.push({ ...load, serverCpuMs: cpuMsPerOp(cores.server), storeCpuMs: cpuMsPerOp(cores.mariadb + cores.redis), otherCores, errors: load.errors });
    console.log(
      `    round ${round}: ${fmt(load.rate)}/s, p50 ${ms(load.p50)}, p99 ${ms(load.p99)}; CPU/op server ${cpuMsPerOp(cores.server).toFixed(3)} ms, MariaDB+Redis ${cpuMsPerOp(cores.mariadb + cores.redis).toFixed(3)} ms; other processes ${otherCores.toFixed(2)} cores${load.errors.length ? `; not ok: ${load.errors.join(', ')}` : ''}`,
    );
  }
  rss.stop();
  return { rounds, rssPeak: rss.peak, rssPeakAll: rss.peakAll, profile };
}

/** The three phases against one target. */
async function measureTarget(t: Target, profiler: WindowProfiler | null): Promise<Results> {
  const out: Results = {};
  out.signins = await phase(t, 'signins', (d) => signIns(t, d), profiler);
  const tokens: string[] = [];
  let warmRate = 0;
  let pool: Code[] = [];
  out.exchanges = await phase(
    t,
    'exchanges',
    async (d, round) => {
      const load = await exchanges(t, pool, d, round === 0 ? tokens : undefined);
      warmRate = Math.max(warmRate, load.rate);
      return load;
    },
    profiler,
    async (d) => {
      // Enough codes for the round at 1.6x the best rate seen so far (at least 1,000).
      pool = await generateCodes(t, Math.max(1000, Math.ceil((warmRate || 500) * d * 1.6)));
    },
  );
  out.profile = await phase(t, 'profile', (d) => profileRequests(t, tokens, d), profiler);
  return out;
}

/** The bare node:http server of `npm run bench` (scripts/bench-baseline-server.js), same rounds. */
async function measureBaseline(): Promise<PhaseResult> {
  const server = fork(path.join(root, 'scripts/bench-baseline-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve) => server.once('message', (m: { port: number }) => resolve(m.port)));
    const t: Target = {
      name: 'bare node:http',
      baseUrl: `http://127.0.0.1:${port}`,
      processes: [{ name: 'baseline', pid: server.pid! }],
      authorizePath: () => '',
      tokenPath: '',
      profilePath: '/api/user',
      basicAuth: '',
      cookies: [],
    };
    return await phase(t, 'profile', (d) => profileRequests(t, ['x'], d), null);
  } finally {
    server.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------- report

const median = (values: number[]) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const pick = (p: PhaseResult | undefined, f: (r: Round) => number) => (p ? p.rounds.map(f) : []);
const medRange = (values: number[], format: (n: number) => string) =>
  values.length ? `${format(median(values))}${values.length > 1 ? ` (${format(Math.min(...values))}-${format(Math.max(...values))})` : ''}` : '-';
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');

function report(peer: Results, ls: Results, bare: PhaseResult): Figure[] {
  const rate = (p?: PhaseResult) => pick(p, (r) => r.rate);
  const rows: string[][] = [];
  const figures: Figure[] = [];
  const perSecond = (n: number) => fmt(n);
  const add = (key: string, label: string, peerValues: number[], lsValues: number[], goal: number, reading: string) => {
    const value = ratio(median(lsValues), median(peerValues));
    rows.push([label, medRange(peerValues, perSecond), medRange(lsValues, perSecond), x(value), `>= ${goal}x`, value >= goal ? 'met' : 'MISSED']);
    figures.push({
      key,
      label: `${label}: LoginSign / peer`,
      value,
      unit: 'x',
      target: `>= ${goal}x`,
      met: value >= goal,
      note: `peer ${medRange(peerValues, perSecond)}/s, LoginSign ${medRange(lsValues, perSecond)}/s; ${reading}`,
    });
  };
  add('signins_ratio', 'returning sign-ins/s', rate(peer.signins), rate(ls.signins), GOAL.signIns, 'authorize -> token -> profile, 3 requests per sign-in');
  add('exchanges_ratio', 'code exchanges/s', rate(peer.exchanges), rate(ls.exchanges), GOAL.exchanges, 'one fresh code per request, PKCE S256, client_secret_basic');
  add('profile_ratio', 'profile req/s (/me vs /api/user)', rate(peer.profile), rate(ls.profile), GOAL.profileVsPeer, 'Bearer token -> profile JSON');
  const bareShare = ratio(median(rate(ls.profile)), median(rate(bare)));
  rows.push([
    '/api/user vs bare node:http',
    medRange(rate(bare), perSecond),
    medRange(rate(ls.profile), perSecond),
    x(bareShare),
    `>= ${GOAL.profileVsBare}x`,
    bareShare >= GOAL.profileVsBare ? 'met' : 'MISSED',
  ]);
  figures.push({
    key: 'user_vs_bare',
    label: '/api/user as a share of a bare node:http server',
    value: bareShare * 100,
    unit: '%',
    target: `>= ${GOAL.profileVsBare * 100}%`,
    met: bareShare >= GOAL.profileVsBare,
    note: `bare ${medRange(rate(bare), perSecond)} req/s in the same run`,
  });
  console.log('');
  console.log(`ratios (LoginSign / peer), medians of ${ROUNDS} rounds x ${DURATION}s, min-max in brackets:`);
  printTable(['figure', 'peer (or bare)', 'LoginSign', 'ratio', 'goal', 'verdict'], rows);

  console.log('');
  console.log('latency and cost per operation (medians over the rounds; CPU ms per operation from /proc/<pid>/stat deltas):');
  const lat: string[][] = [];
  const tail: string[] = [];
  for (const [name, res] of [
    ['peer', peer],
    ['LoginSign', ls],
  ] as const) {
    for (const p of ['signins', 'exchanges', 'profile'] as const) {
      const r = res[p];
      if (!r) continue;
      const p50 = median(pick(r, (v) => v.p50));
      const p99 = median(pick(r, (v) => v.p99));
      const spread = ratio(p99, p50);
      lat.push([
        name,
        p,
        ms(p50),
        ms(p99),
        x(spread),
        spread <= GOAL.p99OverP50 ? 'met' : 'MISSED',
        `${median(pick(r, (v) => v.serverCpuMs)).toFixed(3)} ms`,
        `${median(pick(r, (v) => v.storeCpuMs)).toFixed(3)} ms`,
      ]);
      if (name === 'LoginSign') {
        figures.push({
          key: `${p}_p99_p50`,
          label: `LoginSign ${p}: p99 / p50`,
          value: spread,
          unit: 'x',
          target: `<= ${GOAL.p99OverP50}x`,
          met: spread <= GOAL.p99OverP50,
          note: `p50 ${ms(p50)}, p99 ${ms(p99)}`,
        });
        figures.push({
          key: `${p}_cpu`,
          label: `LoginSign ${p}: CPU per operation, server / MariaDB+Redis`,
          value: median(pick(r, (v) => v.serverCpuMs)),
          unit: 'ms',
          note: `MariaDB+Redis ${median(pick(r, (v) => v.storeCpuMs)).toFixed(3)} ms; peer: server ${median(pick(peer[p], (v) => v.serverCpuMs)).toFixed(3)} ms, MariaDB+Redis ${median(pick(peer[p], (v) => v.storeCpuMs)).toFixed(3)} ms`,
        });
      }
      if (r.profile) tail.push(`LoginSign API profile, ${p} (last round):`, ...r.profile.map((l) => `  ${l}`));
    }
  }
  const bp50 = median(pick(bare, (v) => v.p50));
  const bp99 = median(pick(bare, (v) => v.p99));
  lat.push(['bare node:http', 'profile', ms(bp50), ms(bp99), x(ratio(bp99, bp50)), '', `${median(pick(bare, (v) => v.serverCpuMs)).toFixed(3)} ms`, '']);
  printTable(['server', 'phase', 'p50', 'p99', 'p99/p50', `<= ${GOAL.p99OverP50}x`, 'server CPU/op', 'MariaDB+Redis CPU/op'], lat);

  const peak = (res: Results, f: (p: PhaseResult) => number) => Math.max(0, ...Object.values(res).map((p) => f(p)));
  const apiRss = peak(ls, (p) => p.rssPeak);
  const allRss = peak(ls, (p) => p.rssPeakAll);
  const peerRss = peak(peer, (p) => p.rssPeak);
  console.log('');
  printTable(
    ['memory (peak RSS under load)', 'value', 'goal', 'verdict'],
    [
      ['peer (one process)', mb(peerRss), '', ''],
      ['LoginSign API', mb(apiRss), `<= ${GOAL.apiRssMb} MB`, apiRss / 1048576 <= GOAL.apiRssMb ? 'met' : 'MISSED'],
      ['LoginSign API + worker + relay', mb(allRss), `<= ${GOAL.allRssMb} MB`, allRss / 1048576 <= GOAL.allRssMb ? 'met' : 'MISSED'],
    ],
  );
  figures.push({
    key: 'api_rss',
    label: 'LoginSign API peak RSS under the peer-bench load',
    value: apiRss / 1048576,
    unit: 'MB',
    target: `<= ${GOAL.apiRssMb} MB`,
    met: apiRss / 1048576 <= GOAL.apiRssMb,
    note: `peer ${mb(peerRss)}`,
  });
  figures.push({
    key: 'all_rss',
    label: 'LoginSign API + worker + relay peak RSS',
    value: allRss / 1048576,
    unit: 'MB',
    target: `<= ${GOAL.allRssMb} MB`,
    met: allRss / 1048576 <= GOAL.allRssMb,
  });

  const others = [...Object.values(peer), ...Object.values(ls), bare].flatMap((p) => p.rounds.map((r) => r.otherCores));
  console.log('');
  console.log(`machine: ${CPU_COUNT} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${codeState()}`);
  console.log(
    `other processes used ${Math.min(...others).toFixed(2)}-${Math.max(...others).toFixed(2)} cores during the rounds (median ${median(others).toFixed(2)}): absolute rates are noisy on a shared machine; the ratios, measured in one run, are the figures that count`,
  );
  console.log(
    'peer: node-oidc-provider 9.13.3, one process, Redis adapter (bench/peer/peer-server.ts); LoginSign: one API process, NODE_ENV=production, LOG_LEVEL=warn, real MariaDB and Redis',
  );
  console.log(`load generator: autocannon in this process, ${CONNECTIONS} connections, on the same machine; scope "${SCOPE}" on both (both sign an id_token)`);
  if (PROFILE_DIR) console.log('BENCH_PROFILE=1: the LoginSign API ran under the CPU profiler, so its rates are lower than without it');
  for (const line of tail) console.log(line);
  const errors = [...Object.entries(peer), ...Object.entries(ls)].flatMap(([p, r]) => r.rounds.flatMap((round) => round.errors.map((e) => `${p}: ${e}`)));
  if (errors.length) console.log(`not ok: ${errors.join('; ')}`);
  return figures;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  await buildAndCheck();
  // Other engineers' tests share this machine: wait a little for a quiet moment, then measure anyway (ratios count).
  await quietMachine(0.3, 10_000);

  if (ONLY_LOGINSIGN) {
    const results = await measureLoginSign();
    for (const [name, phase] of Object.entries(results)) console.log(`  ${name}: peak RSS API ${mb(phase.rssPeak)}, API + worker + relay ${mb(phase.rssPeakAll)}`);
    return 0;
  }

  // The peer first, alone.
  const peerPort = await freePort();
  const peerBase = `http://127.0.0.1:${peerPort}`;
  const clientId = 'bench-client';
  const clientSecret = randomBytes(32).toString('base64url');
  console.log(`> starting the peer (node-oidc-provider) on ${peerBase}`);
  const peer = startService(
    'peer',
    'scripts/run-ts.js',
    {
      NODE_ENV: 'production',
      PEER_CONFIG: JSON.stringify({
        port: peerPort,
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        redisPrefix: PEER_REDIS_PREFIX,
        clientId,
        clientSecret,
        redirectUri: REDIRECT_URI,
        scope: SCOPE,
      }),
    },
    [],
    ['bench/peer/peer-server.ts'],
  );
  await waitHttpOk(`${peerBase}/.well-known/openid-configuration`, peer, 120_000);
  const peerTarget = await setUpPeer(peer, peerBase, clientId, clientSecret);
  const peerResults = await measureTarget(peerTarget, null);
  await peer.stop();

  const lsResults = await measureLoginSign();

  console.log('> bare node:http baseline (scripts/bench-baseline-server.js)');
  const bare = await measureBaseline();

  writeFigures('peer', report(peerResults, lsResults, bare));
  const failed = [...Object.values(peerResults), ...Object.values(lsResults)].some((p) => p.rounds.some((r) => r.errors.length));
  return failed ? 1 : 0;
}

/** LoginSign: API + worker + relay, production settings. */
async function measureLoginSign(): Promise<Results> {
  console.log(`> database ${new URL(DATABASE_URL).pathname.slice(1)} (fresh), Redis prefix ${REDIS_PREFIX}`);
  await freshDatabase(DATABASE_URL);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = benchEnv({ databaseUrl: DATABASE_URL, redisPrefix: REDIS_PREFIX, port, extra: { RELAY_SMTP_PORT: String(await freePort()) } });
  console.log(`> starting LoginSign (API on ${baseUrl}, worker, relay; NODE_ENV=production)${PROFILE_DIR ? `, API profiles to ${PROFILE_DIR}` : ''}`);
  const api = startService('api', 'dist/apps/api/src/main.js', PROFILE_DIR ? { ...env, BENCH_PROFILE_DIR: PROFILE_DIR } : env);
  const worker = startService('worker', 'dist/apps/worker/src/main.js', env);
  const relay = startService('relay', 'dist/apps/relay/src/main.js', env);
  await waitHttpOk(`${baseUrl}/health/ready`, api, 120_000); // slow to start while other jobs load the machine
  const lsTarget = await setUpLoginSign(api, [worker, relay], baseUrl);
  const lsResults = await measureTarget(lsTarget, PROFILE_DIR ? new WindowProfiler(api, PROFILE_DIR) : null);
  await Promise.all([api.stop(), worker.stop(), relay.stop()]);
  return lsResults;
}

runBench(main, async () => {
  current?.stop();
  if (args.keep) {
    console.log(`> --keep: database ${new URL(DATABASE_URL).pathname.slice(1)} and Redis prefixes ${REDIS_PREFIX}, ${PEER_REDIS_PREFIX} kept`);
    return;
  }
  await dropDatabase(DATABASE_URL);
  await deleteRedisPrefix(REDIS_PREFIX);
  await deleteRedisPrefix(PEER_REDIS_PREFIX);
  console.log('> dropped the bench database and its Redis keys');
});
