// Webhook delivery throughput end to end: events committed to the
// outbox table -> ONE worker process (outbox relay -> BullMQ -> signed POST)
// -> 2xx from a local receiver. Target >= 1,000 events/s.
//
//   npm run bench:webhooks [-- --events=10000 --keep]
//
// The events are written straight into webhook_events with multi-row INSERTs
// (status 'pending', enqueued_at NULL), the way a committed change leaves
// them when the API could not queue them: the worker's relay finds and queues
// them, so the figure covers commit -> relay -> queue -> delivery -> 2xx.
// Own database (loginsign_bench_webhooks, dropped at the end unless --keep)
// and Redis prefix. Exits non-zero only on errors (a lost, duplicated-only or
// undelivered event, a bad signature), never on a missed target.
import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { createConnection } from 'mysql2/promise';
import { Webhook } from 'standardwebhooks';
import { codeState, quietMachine } from '../lib/machine';
import { CpuSampler, describeCpu, fmt, mb, ms, otherCores, percentile, RssSampler, sleep, verdict } from '../lib/measure';
import { createDeveloperApp } from '../lib/portal';
import { findServerPids, runBench, Service, startService, waitHttpOk } from '../lib/processes';
import { profileDir, WindowProfiler } from '../lib/profile';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';
import { writeFigures } from '../lib/results';

const args = parseArgs();
const EVENTS = args.num('events', 10_000);
const INSERT_BATCH = 1000; // rows per multi-row INSERT (one commit each)
const STALL_MS = 30_000; // no new delivery for this long = error
const DATABASE_URL = databaseUrl('loginsign_bench_webhooks');
const REDIS_PREFIX = uniqueRedisPrefix('webhooks');
const CPU_COUNT = cpus().length;
const TARGET_EVENTS_PER_SECOND = 1000;
const PROFILE_DIR = profileDir('webhooks'); // BENCH_PROFILE=1: CPU profile of the worker during the run

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local webhook endpoint: 204 at once, records the first arrival of each webhook-id. */
async function startReceiver() {
  const first = new Map<string, Received>();
  let requests = 0;
  let lastAt = 0;
  const server = createServer((req, res) => {
    const at = Date.now();
    requests++;
    lastAt = at;
    res.writeHead(204).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      if (!first.has(id)) first.set(id, { at, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    first,
    requests: () => requests,
    lastAt: () => lastAt,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Same shape as the outbox's ids (`msg_` + 20 of [a-z0-9]). */
const eventId = () => `msg_${Array.from({ length: 20 }, () => ID_ALPHABET[randomInt(36)]).join('')}`;

async function main(): Promise<number> {
  await buildAndCheck();
  console.log(`> database ${new URL(DATABASE_URL).pathname.slice(1)} (fresh), Redis prefix ${REDIS_PREFIX}`);
  await freshDatabase(DATABASE_URL);
  const db = await createConnection({ uri: DATABASE_URL, timezone: 'Z', dateStrings: false });
  try {
    // CURRENT_TIMESTAMP(3) (created_at's default) in UTC, like the API's UTC_TIMESTAMP(3).
    await db.query(`SET time_zone = '+00:00'`);
    return await run(db);
  } finally {
    await db.end();
  }
}

async function run(db: Awaited<ReturnType<typeof createConnection>>): Promise<number> {
  receiver = await startReceiver();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = benchEnv({ databaseUrl: DATABASE_URL, redisPrefix: REDIS_PREFIX, port });
  console.log(`> starting the API on ${baseUrl} (NODE_ENV=production), for setup and /health/worker`);
  const api: Service = startService('api', 'dist/apps/api/src/main.js', env);
  await waitHttpOk(`${baseUrl}/health/ready`, api);

  const app = await createDeveloperApp(baseUrl, 'http://127.0.0.1:9/cb');
  // In production the portal accepts only https webhook URLs; the receiver is
  // plain http on loopback, so its URL is written to the row directly.
  await db.query(`UPDATE applications SET webhook_url = ? WHERE id = ?`, [receiver.url, app.id]);
  console.log(`> application ${app.id}, webhook URL ${receiver.url} (receiver answers 204 at once)`);

  console.log('> starting ONE worker (dist/apps/worker/src/main.js, NODE_ENV=production, default WEBHOOK_CONCURRENCY / relay interval)');
  const worker = startService('worker', 'dist/apps/worker/src/main.js', { ...env, ...(PROFILE_DIR ? { BENCH_PROFILE_DIR: PROFILE_DIR } : {}) });
  const profiler = PROFILE_DIR ? new WindowProfiler(worker, PROFILE_DIR) : null;
  // Ready = its heartbeat says the outbox relay completed a pass.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${baseUrl}/health/worker`).catch(() => null);
    // 200 once a worker (the only one here) has completed an outbox relay pass.
    if (res?.status === 200) break;
    if (worker.child.exitCode !== null) throw new Error(`the worker exited:\n${worker.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`the worker did not report progress in 30 s:\n${worker.output().slice(-3000)}`);
    await sleep(200);
  }
  console.log(`> worker ${worker.pid} ready (/health/worker)`);

  // ------------------------------------------------------------ insert
  const ids: string[] = [];
  const batches: unknown[][][] = [];
  for (let i = 0; i < EVENTS; i += INSERT_BATCH) {
    const rows: unknown[][] = [];
    for (let j = i; j < Math.min(EVENTS, i + INSERT_BATCH); j++) {
      const id = eventId();
      ids.push(id);
      const payload = JSON.stringify({ type: 'ping', timestamp: new Date().toISOString(), data: { applicationId: app.id } });
      rows.push([id, app.id, 'ping', payload, 'pending', null]);
    }
    batches.push(rows);
  }
  if (new Set(ids).size !== ids.length) throw new Error('generated a duplicate event id');

  await quietMachine();
  const servers = findServerPids();
  const rss = new RssSampler(worker.pid).start();
  const cpu = new CpuSampler({ worker: [worker.pid], api: [api.pid], 'bench (inserts + receiver)': [process.pid], mariadb: servers.mysql, redis: servers.redis }).start();
  profiler?.start();

  console.log(`> inserting ${fmt(EVENTS)} events: ${batches.length} multi-row INSERTs of up to ${INSERT_BATCH} rows, each its own commit`);
  const firstInsertAt = Date.now();
  for (const rows of batches) {
    await db.query(`INSERT INTO webhook_events (id, application_id, type, payload, status, enqueued_at) VALUES ?`, [rows]);
  }
  const insertedAt = Date.now();
  console.log(`    committed in ${fmt(insertedAt - firstInsertAt)} ms (${fmt(EVENTS / ((insertedAt - firstInsertAt) / 1000))} rows/s)`);

  // ------------------------------------------------------------ wait for deliveries
  let lastProgressAt = Date.now();
  let printedCount = 0;
  let lastPrint = Date.now();
  while (receiver.first.size < EVENTS) {
    const before = receiver.first.size;
    await sleep(100);
    const count = receiver.first.size;
    if (count > before) lastProgressAt = Date.now();
    if (Date.now() - lastPrint >= 1000) {
      const elapsed = (Date.now() - firstInsertAt) / 1000;
      console.log(`    ${elapsed.toFixed(1)}s: ${fmt(count)} / ${fmt(EVENTS)} delivered (+${fmt(count - printedCount)})`);
      printedCount = count;
      lastPrint = Date.now();
    }
    if (Date.now() - lastProgressAt > STALL_MS) {
      throw new Error(`no delivery for ${STALL_MS / 1000} s at ${fmt(count)} / ${fmt(EVENTS)}:\n${worker.output().slice(-3000)}`);
    }
  }
  const lastDeliveredAt = Math.max(...[...receiver.first.values()].map((r) => r.at));
  const cores = cpu.stop();
  const profile = profiler ? await profiler.stop() : null;

  // The worker marks a row delivered after the 2xx: wait for the last UPDATEs.
  let statuses: Record<string, number> = {};
  const statusDeadline = Date.now() + 30_000;
  for (;;) {
    const rows = (await db.query(`SELECT status, COUNT(*) AS n FROM webhook_events GROUP BY status`))[0] as { status: string; n: number }[];
    statuses = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    if ((statuses.delivered ?? 0) >= EVENTS || Date.now() > statusDeadline) break;
    await sleep(200);
  }
  await sleep(500); // late duplicates, if any, would arrive now
  const workerRss = rss.stop();

  // ------------------------------------------------------------ verify + latency
  const created = (await db.query(`SELECT id, created_at, enqueued_at FROM webhook_events`))[0] as { id: string; created_at: Date; enqueued_at: Date | null }[];
  // When the relay had queued the last event (all rows are queued by it: enqueued_at was NULL).
  const lastQueuedAt = Math.max(...created.map((r) => r.enqueued_at?.getTime() ?? NaN));
  // The busiest second of deliveries (first arrivals), the steady-state capacity of the worker.
  const perSecond = new Map<number, number>();
  for (const hook of receiver.first.values()) {
    const second = Math.floor((hook.at - firstInsertAt) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const busiestSecond = Math.max(...perSecond.values());
  const createdAt = new Map(created.map((r) => [r.id, r.created_at.getTime()]));
  const inserted = new Set(ids);
  const latencies: number[] = [];
  let unknown = 0;
  let badSignatures = 0;
  const verifier = new Webhook(app.webhookSecret);
  for (const [id, hook] of receiver.first) {
    if (!inserted.has(id)) {
      unknown++;
      continue;
    }
    latencies.push(hook.at - createdAt.get(id)!);
    try {
      verifier.verify(hook.body, hook.headers as Record<string, string>);
    } catch {
      badSignatures++;
    }
  }
  const distinct = receiver.first.size - unknown;
  const duplicates = receiver.requests() - receiver.first.size;
  const seconds = (lastDeliveredAt - firstInsertAt) / 1000;
  const rate = EVENTS / seconds;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const delivered = statuses.delivered ?? 0;

  const checks = [
    { name: 'distinct webhook-id values received', value: fmt(distinct), want: `exactly ${fmt(EVENTS)}`, ok: distinct === EVENTS && unknown === 0 },
    { name: "rows with status 'delivered'", value: fmt(delivered), want: `all ${fmt(EVENTS)}`, ok: delivered === EVENTS },
    { name: 'signatures valid (standardwebhooks)', value: fmt(distinct - badSignatures), want: `all ${fmt(EVENTS)}`, ok: badSignatures === 0 },
  ];

  console.log('');
  printTable(
    ['figure', 'result', 'target', 'verdict'],
    [
      ['events/s, first INSERT -> last 2xx', `${fmt(rate)} /s`, `>= ${fmt(TARGET_EVENTS_PER_SECOND)} /s`, verdict(rate >= TARGET_EVENTS_PER_SECOND)],
      ['time, first INSERT -> last 2xx', `${seconds.toFixed(2)} s`, '', ''],
      ['time, first INSERT -> relay queued all', `${((lastQueuedAt - firstInsertAt) / 1000).toFixed(2)} s`, '', ''],
      ['busiest second of deliveries', `${fmt(busiestSecond)} /s`, '', ''],
      ['latency p50 (receipt - created_at)', ms(p50), '', ''],
      ['latency p99 (receipt - created_at)', ms(p99), '', ''],
      ['latency max', ms(Math.max(...latencies)), '', ''],
      ...checks.map((c) => [c.name, c.value, c.want, c.ok ? 'ok' : 'FAIL']),
      ['extra requests (same webhook-id again)', fmt(duplicates), '', ''],
      ['worker CPU per event', `${fmt((cores.worker * cpu.seconds * 1e6) / EVENTS)} us`, '', ''],
      ['worker peak RSS', mb(workerRss), '', ''],
    ],
  );
  console.log('');
  console.log(`machine: ${CPU_COUNT} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${codeState()}`);
  console.log(
    `command: npm run bench:webhooks  (${fmt(EVENTS)} 'ping' events, ${batches.length} INSERTs of ${INSERT_BATCH} rows in ${fmt(insertedAt - firstInsertAt)} ms; 1 worker, WEBHOOK_CONCURRENCY=${env.WEBHOOK_CONCURRENCY ?? process.env.WEBHOOK_CONCURRENCY ?? '64 (default)'}, OUTBOX_RELAY_INTERVAL_MS=${process.env.OUTBOX_RELAY_INTERVAL_MS ?? '1000 (default)'})`,
  );
  console.log(`CPU during the run: ${describeCpu(cores, CPU_COUNT)} (mariadb/redis: the whole server, other databases' load included)`);
  if (otherCores(cores) >= 0.3) console.log(`WARNING: other processes used ${otherCores(cores).toFixed(2)} cores during the run; the rate is lower than on a quiet machine`);
  if (rate < TARGET_EVENTS_PER_SECOND) {
    const reading =
      cores.worker >= 0.9
        ? "the worker's single JS thread is saturated"
        : cores.machine >= CPU_COUNT * 0.9
          ? 'all cores are busy (worker, MariaDB, Redis and the bench share them)'
          : 'the worker waits on MySQL/Redis round trips more than it computes';
    console.log(`note: ${reading}`);
  }
  if (profile) {
    console.log(`worker profile: ${profile.file}`);
    for (const line of profile.lines) console.log(`  worker ${line}`);
  } else if (rate < TARGET_EVENTS_PER_SECOND) {
    console.log('  (BENCH_PROFILE=1 adds a CPU profile of the worker: self time per package and function)');
  }
  const failed = checks.filter((c) => !c.ok);
  writeFigures('webhooks', [
    {
      key: 'events_rps',
      label: 'webhook events/s, 1 worker (first INSERT -> last 2xx)',
      value: rate,
      unit: '/s',
      target: `>= ${fmt(TARGET_EVENTS_PER_SECOND)} /s`,
      met: rate >= TARGET_EVENTS_PER_SECOND,
      note: `p99 latency ${ms(p99)}, worker CPU/event ${fmt((cores.worker * cpu.seconds * 1e6) / EVENTS)} us, worker RSS ${mb(workerRss)}${failed.length ? '; CHECKS FAILED' : ''}`,
    },
  ]);
  if (failed.length) {
    console.log(`\nERROR: ${failed.map((c) => c.name).join('; ')} not as expected (statuses: ${JSON.stringify(statuses)}, unknown ids: ${unknown})`);
    return 1;
  }
  return 0;
}
runBench(main, async () => {
  await receiver?.close();
  if (args.keep) console.log(`> --keep: database ${new URL(DATABASE_URL).pathname.slice(1)} and Redis prefix ${REDIS_PREFIX} kept`);
  else {
    await dropDatabase(DATABASE_URL);
    await deleteRedisPrefix(REDIS_PREFIX);
    console.log('> dropped the bench database and its Redis keys');
  }
});
