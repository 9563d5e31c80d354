// Email relay throughput end to end: small messages sent with
// nodemailer to apps/relay (inbound SMTP, routing, stored in MySQL, queued)
// -> ONE worker (BullMQ, header rewrite, nodemailer over SMTP_URL) -> a local
// SMTP sink. Target >= 200 messages/s.
//
//   npm run bench:relay [-- --messages=5000 --users=200 --concurrency=16 --keep]
//
// Latency = arrival at the sink - start of the client's SMTP transaction.
// Own database (loginsign_bench_relay, dropped at the end unless --keep) and
// Redis prefix; rate limits raised so one sender is never throttled.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { createConnection, ResultSetHeader } from 'mysql2/promise';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { codeState, quietMachine } from '../lib/machine';
import { CpuSampler, describeCpu, fmt, mapConcurrent, ms, percentile, sleep, verdict } from '../lib/measure';
import { findServerPids, runBench, startService } from '../lib/processes';
import { benchEnv, buildAndCheck, databaseUrl, deleteRedisPrefix, dropDatabase, freePort, freshDatabase, parseArgs, uniqueRedisPrefix } from '../lib/setup';
import { printTable } from '../lib/table';
import { writeFigures } from '../lib/results';
import { publishSender, startDns, TestDns } from '../../test/support/dns';

const args = parseArgs();
const MESSAGES = args.num('messages', 5000);
const USERS = args.num('users', 200);
const CONCURRENCY = args.num('concurrency', 16);
const TARGET = 200;
const DATABASE_URL = databaseUrl('loginsign_bench_relay');
const REDIS_PREFIX = uniqueRedisPrefix('relay');
const DOMAIN = 'loginsign.com';

let sinkServer: SMTPServer | null = null;
let dns: TestDns | null = null;

async function startSink(arrivals: Map<string, number>) {
  sinkServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    maxClients: 1000,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const id = /X-Bench-Id: (\S+)/i.exec(Buffer.concat(chunks).toString('latin1'))?.[1];
        if (id && !arrivals.has(id)) arrivals.set(id, Date.now());
        done();
      });
    },
  });
  await new Promise<void>((resolve) => sinkServer!.listen(0, '127.0.0.1', () => resolve()));
  return (sinkServer.server.address() as AddressInfo).port;
}

async function main(): Promise<number> {
  await buildAndCheck();
  console.log(`> database ${new URL(DATABASE_URL).pathname.slice(1)} (fresh), Redis prefix ${REDIS_PREFIX}`);
  await freshDatabase(DATABASE_URL);
  const db = await createConnection({ uri: DATABASE_URL });
  const relayLocals: string[] = [];
  try {
    await db.query(`INSERT INTO developers (name, email, password_hash) VALUES ('Bench', 'bench@example.com', 'x')`);
    await db.query(
      `INSERT INTO applications (id, developer_id, name, client_id, client_secret_hash, redirect_uris, webhook_secret_enc, sender_domains, sender_addresses, sender_domains_verified)
       SELECT 'app_bench0000000000000000', id, 'Bench', 'ls_bench00000000000000000000', UNHEX(SHA2('x', 256)), '[]', 'x', '["app.example"]', '[]', '["app.example"]' FROM developers`,
    );
    for (let i = 0; i < USERS; i++) {
      const local = `b${String(i).padStart(5, '0')}`;
      relayLocals.push(local);
      const [user] = await db.query<ResultSetHeader>(`INSERT INTO users (global_id, name, region, password_hash) VALUES (?, ?, 'Germany', 'x')`, [
        `BB${String(i).padStart(4, '0')}`,
        `User ${i}`,
      ]);
      await db.query(`INSERT INTO user_emails (user_id, email, linked, is_primary, confirmed_at) VALUES (?, ?, 1, 1, UTC_TIMESTAMP(3))`, [user.insertId, `user${i}@real.example`]);
      await db.query(`INSERT INTO relay_addresses (local_part) VALUES (?)`, [local]);
      await db.query(`INSERT INTO connections (id, application_id, user_id, relay_local, scope) VALUES (?, 'app_bench0000000000000000', ?, ?, 'email')`, [
        `c_bench${i}`,
        user.insertId,
        local,
      ]);
    }
  } finally {
    await db.end();
  }

  const arrivals = new Map<string, number>();
  const sinkPort = await startSink(arrivals);
  const relayPort = await freePort();
  // Sender authentication is on: the sender's SPF and DMARC records come from a local DNS server.
  dns = await startDns();
  publishSender(dns, 'app.example');
  const env = benchEnv({
    databaseUrl: DATABASE_URL,
    redisPrefix: REDIS_PREFIX,
    port: await freePort(),
    extra: {
      SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
      RELAY_SMTP_PORT: String(relayPort),
      RELAY_DOMAIN: DOMAIN,
      DNS_SERVERS: dns.server,
      RELAY_RATE_PER_APP_PER_MINUTE: '10000000',
      RELAY_RATE_PER_SENDER_PER_MINUTE: '10000000',
    },
  });
  console.log(`> ${USERS} connections; sink on ${sinkPort}; starting ONE worker and ONE relay (port ${relayPort}), NODE_ENV=production`);
  const worker = startService('worker', 'dist/apps/worker/src/main.js', env);
  const relay = startService('relay', 'dist/apps/relay/src/main.js', env);
  const deadline = Date.now() + 30_000;
  while (!relay.output().includes('LoginSign relay listening')) {
    if (Date.now() > deadline) throw new Error(`the relay did not start:\n${relay.output()}`);
    await sleep(100);
  }

  const transport = createTransport({ host: '127.0.0.1', port: relayPort, secure: false, ignoreTLS: true, pool: true, maxConnections: CONCURRENCY, maxMessages: Infinity });
  const sendOne = async (id: string, i: number) =>
    transport.sendMail({
      from: 'news@app.example',
      to: `${relayLocals[i % relayLocals.length]}@${DOMAIN}`,
      subject: `Bench ${i}`,
      text: `Hello number ${i}. ${'lorem ipsum '.repeat(40)}`,
      headers: { 'X-Bench-Id': id },
    });

  // Warm-up: one message end to end (the worker is ready when it arrives).
  await sendOne('warmup', 0);
  while (!arrivals.has('warmup')) {
    if (Date.now() > deadline) throw new Error(`the warm-up message did not arrive:\n${worker.output().slice(-3000)}`);
    await sleep(50);
  }

  await quietMachine();
  const servers = findServerPids();
  const cpu = new CpuSampler({ relay: [relay.pid], worker: [worker.pid], 'bench (client + sink)': [process.pid], mariadb: servers.mysql, redis: servers.redis }).start();
  const ids = Array.from({ length: MESSAGES }, (_, i) => `m${i}-${randomBytes(4).toString('hex')}`);
  const sentAt = new Map<string, number>();
  console.log(`> sending ${fmt(MESSAGES)} messages, ${CONCURRENCY} SMTP connections`);
  const first = Date.now();
  let refused = 0;
  await mapConcurrent(ids, CONCURRENCY, async (id, i) => {
    sentAt.set(id, Date.now());
    await sendOne(id, i).catch(() => refused++);
  });
  const acceptedAt = Date.now();
  let lastCount = 0;
  let lastProgress = Date.now();
  while (ids.some((id) => !arrivals.has(id))) {
    await sleep(100);
    if (arrivals.size !== lastCount) {
      lastCount = arrivals.size;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > 30_000) throw new Error(`no delivery for 30 s at ${arrivals.size - 1} / ${MESSAGES}:\n${worker.output().slice(-3000)}`);
  }
  const cores = cpu.stop();
  transport.close();
  const last = Math.max(...ids.map((id) => arrivals.get(id)!));
  const latencies = ids.map((id) => arrivals.get(id)! - sentAt.get(id)!);
  const seconds = (last - first) / 1000;
  const rate = MESSAGES / seconds;
  console.log('');
  printTable(
    ['figure', 'result', 'target', 'verdict'],
    [
      ['messages/s, first send -> last arrival', `${fmt(rate)} /s`, `>= ${TARGET} /s`, verdict(rate >= TARGET)],
      ['messages/s accepted by the relay (250)', `${fmt(MESSAGES / ((acceptedAt - first) / 1000))} /s`, '', ''],
      ['time, first send -> last arrival', `${seconds.toFixed(2)} s`, '', ''],
      ['latency p50 (arrival - send)', ms(percentile(latencies, 50)), '', ''],
      ['latency p99 (arrival - send)', ms(percentile(latencies, 99)), '', ''],
      ['latency max', ms(Math.max(...latencies)), '', ''],
      ['refused by the relay', fmt(refused), '0', refused === 0 ? 'ok' : 'FAIL'],
    ],
  );
  console.log('');
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${codeState()}`);
  console.log(
    `command: npm run bench:relay -- --messages=${MESSAGES} --users=${USERS} --concurrency=${CONCURRENCY}  (1 relay, 1 worker, RELAY_CONCURRENCY=${env.RELAY_CONCURRENCY ?? '16 (default)'})`,
  );
  console.log(`CPU during the run: ${describeCpu(cores, cpus().length)}`);
  writeFigures('relay', [
    {
      key: 'messages_rps',
      label: 'relay messages/s (SMTP in -> forwarded)',
      value: rate,
      unit: '/s',
      target: `>= ${TARGET} /s`,
      met: rate >= TARGET,
      note: `p99 latency ${ms(percentile(latencies, 99))}, refused ${refused}`,
    },
  ]);
  return refused === 0 ? 0 : 1;
}

runBench(main, async () => {
  await new Promise<void>((resolve) => (sinkServer ? sinkServer.close(() => resolve()) : resolve()));
  await dns?.close();
  if (args.keep) console.log(`> --keep: database and Redis prefix ${REDIS_PREFIX} kept`);
  else {
    await dropDatabase(DATABASE_URL);
    await deleteRedisPrefix(REDIS_PREFIX);
    console.log('> dropped the bench database and its Redis keys');
  }
});
