// Scale-out of the compiled API on this machine, against the real MySQL and Redis:
//   1. sign-ins/s (returning user: authorize 303 -> token -> /api/user) with
//      1, 2 and 4 API processes (API_PROCESSES, node:cluster), and each
//      process's share of the requests;
//   2. MySQL statements and Redis commands per sign-in, counted inside the API
//      processes (bench/lib/child-preload.js), so other users of the shared
//      servers do not blur them;
//   3. one keep-alive client against 2 processes, with and without
//      HTTP_MAX_REQUESTS_PER_SOCKET: which process answers;
//   4. sign-ins/s with 2 API processes on a Redis Cluster (3 masters + 3
//      replicas, started here on free ports) vs the single Redis;
//   5. the token cache hit rate of 4 API processes answering /api/user for a
//      stable set of tokens while other users' tokens are revoked through
//      /oauth/revoke at --revocations per second (misses: the access-token
//      SELECTs counted inside the processes).
//
//   npm run bench:scale [-- --users=40 --duration=8 --concurrency=32 --processes=1,2,4 --revocations=10]
//
// Own database (loginsign_bench_scale, dropped at the end) and Redis prefix.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchApp, BenchUser, createDeveloperApp, logIn, setCookie, signUpUser } from '../lib/portal';
import { startRedisCluster } from '../lib/redis-cluster';
import { runBench, Service, startService, waitHttpOk } from '../lib/processes';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';
import { codeFrom, REDIRECT_URI } from '../lib/authorize-answers';

const args = parseArgs();
const USERS = args.num('users', 40);
const DURATION = args.num('duration', 8);
const CONCURRENCY = args.num('concurrency', 32);
const REVOCATIONS = args.num('revocations', 10);
const PROCESSES = (process.argv.find((a) => a.startsWith('--processes='))?.split('=')[1] ?? '1,2,4').split(',').map(Number);
const DATABASE_URL = databaseUrl('loginsign_bench_scale');
const REDIS_PREFIX = uniqueRedisPrefix('scale');

interface Counts {
  pid: number;
  http: number;
  tokenLookups: number;
  mysql: Record<string, number>;
  redis: Record<string, number>;
}

/** The counters every process of a run wrote (the cluster primary serves no request). */
function readCounts(dir: string): Map<number, Counts> {
  const out = new Map<number, Counts>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Counts;
    out.set(c.pid, c);
  }
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 600)); // counters are written every 250 ms

function sum(table: Record<string, number>): number {
  return Object.values(table).reduce((a, b) => a + b, 0);
}

function delta(before: Map<number, Counts>, after: Map<number, Counts>) {
  const perPid = new Map<number, number>();
  let tokenLookups = 0;
  const mysql: Record<string, number> = {};
  const redis: Record<string, number> = {};
  for (const [pid, c] of after) {
    const b = before.get(pid);
    perPid.set(pid, c.http - (b?.http ?? 0));
    tokenLookups += c.tokenLookups - (b?.tokenLookups ?? 0);
    for (const [k, v] of Object.entries(c.mysql)) mysql[k] = (mysql[k] ?? 0) + v - (b?.mysql[k] ?? 0);
    for (const [k, v] of Object.entries(c.redis)) redis[k] = (redis[k] ?? 0) + v - (b?.redis[k] ?? 0);
  }
  return { perPid, tokenLookups, mysql, redis };
}

let env: Record<string, string> = {};
let app: BenchApp;
const users: BenchUser[] = [];

async function startApi(processes: number, extra: Record<string, string> = {}): Promise<{ api: Service; baseUrl: string; countDir: string }> {
  const port = await freePort();
  const countDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = startService(`api x${processes}`, 'dist/apps/api/src/main.js', {
    ...env,
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    API_PROCESSES: String(processes),
    BENCH_COUNT_DIR: countDir,
    ...extra,
  });
  await waitHttpOk(`${baseUrl}/health/ready`, api, 60_000);
  // Every child answers readiness before the run starts (each writes its counters once it is up).
  const deadline = Date.now() + 60_000;
  while (readCounts(countDir).size < processes + (processes > 1 ? 1 : 0)) {
    if (Date.now() > deadline) throw new Error(`only ${readCounts(countDir).size} API processes came up`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { api, baseUrl, countDir };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(baseUrl: string, challenge: string, state: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'profile email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${baseUrl}/oauth/authorize?${q.toString()}`;
}

/** One returning user's sign-in: authorize (303 with a code), token, /api/user; the access token. With `consent`, the first one's consent page too. */
async function signIn(baseUrl: string, user: BenchUser, consent = false): Promise<string> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(6).toString('hex');
  let res = await fetch(authorizeUrl(baseUrl, challenge, state), { redirect: 'manual', headers: { cookie: user.cookie } });
  if (consent) {
    const html = await res.text();
    const csrf = setCookie(res, 'ls_csrf');
    const fields: Record<string, string> = { share: 'relay', decision: 'allow' };
    for (const tag of html.match(/<input\b[^>]*type="hidden"[^>]*>/gi) ?? []) {
      const name = /\bname="([^"]*)"/.exec(tag)?.[1];
      const value = /\bvalue="([^"]*)"/.exec(tag)?.[1];
      if (name && value !== undefined) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
    }
    res = await fetch(`${baseUrl}/oauth/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${user.cookie}; ${csrf}` },
      body: new URLSearchParams(fields).toString(),
    });
  }
  await res.arrayBuffer();
  const location = res.headers.get('location');
  const code = res.status === 303 ? codeFrom(location) : null;
  if (!code) throw new Error(`authorize: ${res.status} ${location}`);
  const token = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  });
  const body = (await token.json()) as { access_token?: string };
  if (token.status !== 200 || !body.access_token) throw new Error(`token: ${token.status} ${JSON.stringify(body)}`);
  const me = await fetch(`${baseUrl}/api/user`, { headers: { authorization: `Bearer ${body.access_token}` } });
  await me.arrayBuffer();
  if (me.status !== 200) throw new Error(`/api/user: ${me.status}`);
  return body.access_token;
}

/** CONCURRENCY loops of sign-ins for `seconds`; returns the count and the errors. */
async function load(baseUrl: string, seconds: number, who: BenchUser[] = users): Promise<{ ok: number; errors: number; firstError: string }> {
  const until = Date.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  let firstError = '';
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        try {
          await signIn(baseUrl, who[n++ % who.length]);
          ok++;
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message;
        }
      }
    }),
  );
  return { ok, errors, firstError };
}

interface RunResult {
  processes: number;
  rate: number;
  errors: number;
  shares: number[];
  mysql: Record<string, number>;
  redis: Record<string, number>;
  signIns: number;
}

/** `sessionsOn` gives the users signed in on this API (another Redis holds other sessions). */
async function measure(processes: number, extra: Record<string, string> = {}, sessionsOn = (_baseUrl: string) => Promise.resolve(users)): Promise<RunResult> {
  console.log(`\n> ${processes} API process(es)${extra.REDIS_URL ? ' on the Redis Cluster' : ''}: warm-up 2 s, then ${DURATION} s with ${CONCURRENCY} concurrent sign-in loops`);
  const { api, baseUrl, countDir } = await startApi(processes, extra);
  try {
    const who = await sessionsOn(baseUrl);
    await load(baseUrl, 2, who);
    await settle();
    const before = readCounts(countDir);
    const started = performance.now();
    const { ok, errors, firstError } = await load(baseUrl, DURATION, who);
    const seconds = (performance.now() - started) / 1000;
    await settle();
    const d = delta(before, readCounts(countDir));
    d.perPid.delete(api.pid); // the cluster primary only hands out connections
    const served = [...d.perPid.values()];
    const total = served.reduce((a, b) => a + b, 0);
    if (errors) console.log(`    ${errors} failed sign-ins (first: ${firstError})`);
    return { processes, rate: ok / seconds, errors, shares: served.map((v) => v / total).sort((a, b) => b - a), mysql: d.mysql, redis: d.redis, signIns: ok };
  } finally {
    await api.stop();
  }
}

async function revoke(baseUrl: string, token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`revoke: ${res.status}`);
}

interface CacheResult {
  calls: number;
  lookups: number;
  revoked: number;
}

/** 4 processes answer /api/user for one token per user while other users' tokens are revoked at REVOCATIONS/s. */
async function tokenCache(): Promise<CacheResult> {
  console.log(`\n> token cache, 4 API processes: /api/user with ${users.length} stable tokens, ${REVOCATIONS} revocations/s of other users' tokens, ${DURATION} s`);
  const { api, baseUrl, countDir } = await startApi(4);
  try {
    const stable = await Promise.all(users.map((user) => signIn(baseUrl, user)));
    const others: BenchUser[] = [];
    for (let i = 0; i < 4; i++) others.push(await signUpUser(baseUrl, USERS + i));
    const doomed: string[] = [];
    for (const user of others) doomed.push(await signIn(baseUrl, user, true));
    while (doomed.length < Math.ceil(REVOCATIONS * DURATION) + 1) doomed.push(await signIn(baseUrl, others[doomed.length % others.length]));
    const callLoops = async (seconds: number) => {
      const until = Date.now() + seconds * 1000;
      let calls = 0;
      let n = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < until) {
            const res = await fetch(`${baseUrl}/api/user`, { headers: { authorization: `Bearer ${stable[n++ % stable.length]}` } });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`/api/user: ${res.status}`);
            calls++;
          }
        }),
      );
      return calls;
    };
    await callLoops(2); // every process has seen every token
    await settle();
    const before = readCounts(countDir);
    let revoked = 0;
    let revoking = true;
    const revocations = (async () => {
      const started = Date.now();
      while (revoking && doomed.length) {
        await revoke(baseUrl, doomed.shift()!);
        revoked++;
        const due = started + (revoked * 1000) / REVOCATIONS;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    })();
    const calls = await callLoops(DURATION);
    revoking = false;
    await revocations;
    await settle();
    return { calls, lookups: delta(before, readCounts(countDir)).tokenLookups, revoked };
  } finally {
    await api.stop();
  }
}

/** One keep-alive client, 2 processes: which process answers (share of the busiest). */
async function stickiness(maxPerSocket: string): Promise<number[]> {
  const { api, baseUrl, countDir } = await startApi(2, { HTTP_MAX_REQUESTS_PER_SOCKET: maxPerSocket });
  try {
    await settle();
    const before = readCounts(countDir);
    for (let i = 0; i < 2000; i++) await (await fetch(`${baseUrl}/health/live`)).arrayBuffer();
    await settle();
    const d = delta(before, readCounts(countDir));
    d.perPid.delete(api.pid);
    const counts = [...d.perPid.values()];
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((v) => v / total).sort((a, b) => b - a);
  } finally {
    await api.stop();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const per = (table: Record<string, number>, n: number) =>
  Object.entries(table)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
    .join(', ');

async function main(): Promise<number> {
  await buildAndCheck();
  await freshDatabase(DATABASE_URL);
  const setup = await freePort();
  env = benchEnv({ port: setup, databaseUrl: DATABASE_URL, redisPrefix: REDIS_PREFIX, extra: {} });
  {
    const { api, baseUrl } = await startApi(1);
    console.log(`> setup: a developer app, ${USERS} users signed up and consented`);
    app = await createDeveloperApp(baseUrl, REDIRECT_URI);
    for (let i = 0; i < USERS; i++) users.push(await signUpUser(baseUrl, i));
    for (const user of users) await signIn(baseUrl, user, true);
    await api.stop();
  }

  const results: RunResult[] = [];
  for (const n of PROCESSES) results.push(await measure(n));
  console.log('\n> one keep-alive client, 2 API processes, 2,000 requests');
  const sticky = await stickiness('0');
  const rebalanced = await stickiness('100');
  const cache = await tokenCache();
  const single = results.find((r) => r.processes === 2) ?? (await measure(2));
  const cluster = await startRedisCluster();
  let clustered: RunResult;
  try {
    clustered = await measure(2, { REDIS_URL: cluster.url }, (baseUrl) => Promise.all(users.map((user) => logIn(baseUrl, user.email))));
  } finally {
    await cluster.stop();
  }

  console.log(`\n## Scale-out on this machine (${cpus().length} cores; ${CONCURRENCY} concurrent sign-in loops, ${DURATION} s)\n`);
  printTable(
    ['API processes', 'sign-ins/s', 'failed', 'request share per process'],
    results.map((r) => [String(r.processes), r.rate.toFixed(0), String(r.errors), r.shares.map(pct).join(' / ')]),
  );
  const base = results[0];
  console.log(`\nPer sign-in (authorize + token + /api/user, ${base.processes} process, ${base.signIns} sign-ins):`);
  console.log(`  MySQL statements: ${(sum(base.mysql) / base.signIns).toFixed(2)} (${per(base.mysql, base.signIns)})`);
  console.log(`  Redis commands:   ${(sum(base.redis) / base.signIns).toFixed(2)} (${per(base.redis, base.signIns)})`);
  console.log(`\nOne keep-alive client, 2 processes: HTTP_MAX_REQUESTS_PER_SOCKET=0 -> ${sticky.map(pct).join(' / ')}; =100 -> ${rebalanced.map(pct).join(' / ')}`);
  console.log(
    `\n2 API processes: single Redis ${single.rate.toFixed(0)} sign-ins/s (${single.errors} failed); Redis Cluster (3 masters + 3 replicas) ${clustered.rate.toFixed(0)} sign-ins/s (${clustered.errors} failed)`,
  );
  console.log(
    `  Redis commands per sign-in: single ${(sum(single.redis) / single.signIns).toFixed(2)}, cluster ${(sum(clustered.redis) / clustered.signIns).toFixed(2)} (${per(clustered.redis, clustered.signIns)})`,
  );
  console.log(
    `\nToken cache, 4 processes, ${cache.revoked} revocations of other users' tokens in ${DURATION} s: ${cache.calls} /api/user calls, ${cache.lookups} access-token SELECTs -> hit rate ${((1 - cache.lookups / cache.calls) * 100).toFixed(2)}%`,
  );
  console.log(
    `\nCommand: npm run bench:scale -- --users=${USERS} --duration=${DURATION} --concurrency=${CONCURRENCY} --processes=${PROCESSES.join(',')} --revocations=${REVOCATIONS}`,
  );
  return 0;
}

runBench(main, async () => {
  await dropDatabase(DATABASE_URL);
  await deleteRedisPrefix(REDIS_PREFIX);
});
