// Table sizes stay bounded (housekeeping): 100,000 returning-user
// sign-ins (authorize -> token) against the production build with 60 s access
// tokens, then the worker's housekeeping job; prints access_tokens and Redis
// key counts at each step. Codes expire in Redis by TTL; expired tokens go
// with the housekeeping job (DELETE ... LIMIT 1000 batches).
//
//   npm run bench:housekeeping [-- --signins=100000 --users=50 --concurrency=32 --keep]
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { createConnection, RowDataPacket } from 'mysql2/promise';
import { fmt, mapConcurrent, sleep } from '../lib/measure';
import { BenchUser, createDeveloperApp, setCookie, signUpUser } from '../lib/portal';
import { runBench, startService, waitHttpOk } from '../lib/processes';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';

const args = parseArgs();
const SIGNINS = args.num('signins', 100_000);
const USERS = args.num('users', 50);
const CONCURRENCY = args.num('concurrency', 32);
const DATABASE_URL = databaseUrl('loginsign_bench_housekeeping');
const REDIS_PREFIX = uniqueRedisPrefix('housekeeping');
const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const TOKEN_TTL_SECONDS = 60;

async function main(): Promise<number> {
  await buildAndCheck();
  await freshDatabase(DATABASE_URL);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = benchEnv({ port, databaseUrl: DATABASE_URL, redisPrefix: REDIS_PREFIX, extra: { ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) } });
  const api = startService('api', 'dist/apps/api/src/main.js', env);
  await waitHttpOk(`${base}/health/ready`, api);
  startService('worker', 'dist/apps/worker/src/main.js', env);

  const db = await createConnection({ uri: DATABASE_URL });
  const redis = new Redis(env.REDIS_URL);
  const rows: string[][] = [];
  const snapshot = async (phase: string) => {
    const [[tokens]] = await db.query<({ n: number } & RowDataPacket)[]>('SELECT COUNT(*) AS n FROM access_tokens');
    const [[connections]] = await db.query<({ n: number; s: string | null } & RowDataPacket)[]>('SELECT COUNT(*) AS n, SUM(sessions) AS s FROM connections');
    const codeKeys = (await redis.keys(`${REDIS_PREFIX}:code:*`)).length;
    const allKeys = (await redis.keys(`${REDIS_PREFIX}:*`)).length;
    rows.push([phase, fmt(Number(tokens.n)), fmt(Number(connections.n)), fmt(Number(connections.s)), fmt(codeKeys), fmt(allKeys)]);
    console.log(`  ${phase}: access_tokens ${fmt(Number(tokens.n))}, sessions ${fmt(Number(connections.s))}, Redis keys ${fmt(allKeys)}`);
  };

  const app = await createDeveloperApp(base, REDIRECT_URI);
  const basic = `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`;
  const users: BenchUser[] = [];
  for (let i = 0; i < USERS; i++) users.push(await signUpUser(base, i));

  const authorize = async (user: BenchUser, csrfCookie?: string) => {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      state: 's',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const res = await fetch(`${base}/oauth/authorize?${query.toString()}`, { redirect: 'manual', headers: { cookie: [user.cookie, csrfCookie].filter(Boolean).join('; ') } });
    return { res, query, verifier };
  };

  // First consent of each user (the consent form), so every later sign-in is a returning one.
  for (const user of users) {
    const { res, query } = await authorize(user);
    const html = await res.text();
    const csrfCookie = setCookie(res, 'ls_csrf')!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const form = new URLSearchParams({ ...Object.fromEntries(query), _csrf: csrf, share: 'relay', decision: 'allow' });
    const decided = await fetch(`${base}/oauth/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${user.cookie}; ${csrfCookie}` },
      body: form,
    });
    if (decided.status !== 303) throw new Error(`consent: ${decided.status}`);
  }
  await snapshot('after setup');

  let failures = 0;
  const started = Date.now();
  await mapConcurrent(
    Array.from({ length: SIGNINS }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const { res, verifier } = await authorize(users[i % users.length]);
      const code = new URL(res.headers.get('location')!).searchParams.get('code');
      const token = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT_URI, code_verifier: verifier }),
      });
      if (token.status !== 200) failures++;
      await token.arrayBuffer();
    },
    (done) => {
      if (done % 20_000 === 0) console.log(`  ${fmt(done)} sign-ins (${fmt(done / ((Date.now() - started) / 1000))}/s)`);
    },
  );
  await snapshot(`after ${fmt(SIGNINS)} sign-ins`);

  console.log(`> waiting ${TOKEN_TTL_SECONDS} s for the last tokens to expire, then running the housekeeping job`);
  await sleep((TOKEN_TTL_SECONDS + 2) * 1000);
  const queue = new Queue('housekeeping', { connection: { url: env.REDIS_URL }, prefix: `${REDIS_PREFIX}:bull` });
  const job = await queue.add('purge-expired', {});
  for (let i = 0; i < 600 && !(await job.isCompleted()); i++) await sleep(500);
  await snapshot('after housekeeping');
  await queue.close();
  await redis.quit();
  await db.end();

  console.log('');
  printTable(['phase', 'access_tokens rows', 'connections', 'sessions counted', 'code keys (Redis)', 'all Redis keys'], rows);
  const command = `npm run bench:housekeeping -- --signins=${SIGNINS} --users=${USERS} --concurrency=${CONCURRENCY}`;
  console.log(`\nfailed sign-ins: ${failures}; command: ${command}`);
  writeFileSync(
    path.resolve(__dirname, '../../docs/table-sizes.md'),
    [
      '# Table sizes under sign-in load',
      '',
      `Generated by \`${command}\` on ${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC (production build, access tokens living ${TOKEN_TTL_SECONDS} s).`,
      '',
      '| phase | access_tokens rows | connections | sessions counted | code keys (Redis) | all Redis keys |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `Failed sign-ins: ${failures}. access_tokens grows with sign-ins only until tokens expire; the worker's housekeeping job (every 10 minutes in production, run once here) deletes expired rows in batches of 1,000, so the table holds at most one token lifetime of sign-ins. Authorization codes are single-use Redis keys with a TTL; the "code used" markers that let a replay revoke tokens live code TTL + token TTL, so Redis holds at most that window of sign-ins, then they expire by themselves.`,
      '',
    ].join('\n'),
  );
  return failures === 0 ? 0 : 1;
}

runBench(main, async () => {
  if (!args.keep) await dropDatabase(DATABASE_URL);
  await deleteRedisPrefix(REDIS_PREFIX);
});
