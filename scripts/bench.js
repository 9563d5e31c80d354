#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only=signin,webhooks]
// Builds, then runs every benchmark in sequence (each prepares its own database
// and Redis prefix and starts the API / worker it needs in production mode),
// 3 times each (--quick: once), plus a bare node:http server answering a fixed
// /api/user JSON, measured with autocannon in the same run (the baseline
// /api/user is compared to). Writes docs/benchmarks.md: machine, date, each
// figure as the median with min-max, its target, a one-line reading.
// Each run's full output goes to bench-results/<bench>-<n>.log.
'use strict';
const { spawn, fork } = require('node:child_process');
const { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, prepare } = require('./lib');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const only = (argv.find((a) => a.startsWith('--only=')) ?? '').slice('--only='.length).split(',').filter(Boolean);
const RUNS = QUICK ? 1 : 3;
/** Rebuild docs/benchmarks.md from the files an earlier run left in bench-results/ (no measuring). */
const REPORT_ONLY = argv.includes('--report-only');
const OUT_DIR = path.join(root, 'bench-results');
const DOC = path.join(root, 'docs', 'benchmarks.md');
const CONNECTIONS = 50; // as bench:signin's GET /api/user phase
const BASELINE_SECONDS = QUICK ? 5 : 10;

/** name, npm script file, extra args/env per run (users-list seeds 1M rows once and reuses them). */
const BENCHES = [
  { name: 'global-id', file: 'bench/global-id/index.ts' },
  { name: 'signin', file: 'bench/signin/index.ts' },
  {
    name: 'users-list',
    file: 'bench/users-list/index.ts',
    args: (run, runs) => (runs === 1 ? [] : run === 1 ? ['--keep'] : ['--reuse']),
    env: QUICK ? { BENCH_SECONDS: '3' } : {},
    after: (runs) => (runs > 1 ? dropDatabase('loginsign_bench_users') : null),
  },
  { name: 'webhooks', file: 'bench/webhooks/index.ts' },
  { name: 'relay', file: 'bench/relay/index.ts' },
  { name: 'accounts', file: 'bench/accounts/index.ts' },
  // Its own warm-up and 3 rounds per phase, medians inside: one run (--quick: 3 s rounds).
  { name: 'peer', file: 'bench/peer/index.ts', runs: 1, args: () => (QUICK ? ['--quick'] : []) },
].filter((b) => only.length === 0 || only.includes(b.name) || only.includes('baseline'));

const started = Date.now();
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const log = (line) => console.log(`[bench ${elapsed()}] ${line}`);

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function fmt(value, unit) {
  if (unit === 'x') return value.toFixed(3);
  if (unit === '%') return value.toFixed(1);
  if (unit === 'ms') return value < 10 ? value.toFixed(1) : value.toFixed(0);
  return Math.round(value).toLocaleString('en');
}

async function dropDatabase(name) {
  const mysql = require('mysql2/promise');
  const url = new URL(process.env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/loginsign');
  url.pathname = '/';
  const conn = await mysql.createConnection({ uri: url.toString() });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

async function machine() {
  const mysql = require('mysql2/promise');
  const Redis = require('ioredis');
  const url = new URL(process.env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/loginsign');
  url.pathname = '/';
  let db = '?';
  let redis = '?';
  try {
    const conn = await mysql.createConnection({ uri: url.toString() });
    const [rows] = await conn.query('SELECT VERSION() AS v');
    db = rows[0].v;
    await conn.end();
  } catch {
    // MySQL unreachable: the version stays '?'.
  }
  try {
    const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    const info = await client.info('server');
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    client.disconnect();
  } catch {
    // Redis unreachable: the version stays '?'.
  }
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    model: cpus[0]?.model ?? '?',
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    db: /mariadb/i.test(db) ? `MariaDB ${db}` : `MySQL ${db}`,
    redis: `Redis ${redis}`,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Runs one bench once; streams its output to a log file and shows its progress lines. */
function runOnce(bench, run, runs) {
  return new Promise((resolve) => {
    const jsonFile = path.join(OUT_DIR, `${bench.name}-${run}.json`);
    const logFile = path.join(OUT_DIR, `${bench.name}-${run}.log`);
    rmSync(jsonFile, { force: true });
    const args = [path.join(root, 'scripts/run-ts.js'), bench.file, ...(bench.args ? bench.args(run, runs) : [])];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...(bench.env ?? {}), BENCH_JSON: jsonFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let partial = '';
    const onData = (chunk) => {
      output += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      // Progress: the bench's own "> step" lines and warnings, prefixed.
      for (const line of lines)
        if (/^(> |WARNING|ERROR|FAIL)/.test(line.trim()) || /\d rows|signed up \d|consented \d|signed in \d/.test(line))
          log(`${bench.name} ${run}/${runs}: ${line.trim().slice(0, 160)}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      writeFileSync(logFile, output);
      const result = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : null;
      if (code !== 0) log(`${bench.name} ${run}/${runs}: exited ${code} (log: ${path.relative(root, logFile)})`);
      const warnings = output
        .split('\n')
        .filter((l) => /^\s*WARNING/.test(l))
        .map((l) => l.trim());
      resolve({ code, result, logFile, warnings });
    });
  });
}

/** The bare node:http baseline: a child process answering a fixed /api/user JSON; autocannon from here. */
async function baseline() {
  const autocannon = require('autocannon');
  const server = fork(path.join(__dirname, 'bench-baseline-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.once('message', (m) => resolve(m.port)));
  const values = [];
  const p99s = [];
  try {
    // Warm-up, then the measured runs.
    await new Promise((resolve, reject) =>
      autocannon({ url: `http://127.0.0.1:${port}/api/user`, connections: CONNECTIONS, duration: 2, headers: { authorization: 'Bearer x' } }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
    for (let run = 1; run <= RUNS; run++) {
      const result = await new Promise((resolve, reject) =>
        autocannon({ url: `http://127.0.0.1:${port}/api/user`, connections: CONNECTIONS, duration: BASELINE_SECONDS, headers: { authorization: 'Bearer x' } }, (e, r) =>
          e ? reject(e) : resolve(r),
        ),
      );
      const rate = result['2xx'] / result.duration;
      values.push(rate);
      p99s.push(result.latency.p99);
      log(`baseline ${run}/${RUNS}: ${Math.round(rate).toLocaleString('en')} req/s, p99 ${result.latency.p99} ms`);
    }
  } finally {
    server.kill('SIGTERM');
  }
  return { values, p99s };
}

/** Why a figure misses its target (from the profiles in docs/performance.md), by bench/key. */
const WHY = {
  'signin/user_rps': 'per request: JWT verify, the shared authz_version read, helmet headers, JSON; API, autocannon and MariaDB share 2 cores (docs/performance.md)',
  'signin/user_p99': 'queueing behind the same per-request MySQL round trip at saturation (50 connections on one API thread)',
  'signin/api_rss':
    'V8 heap headroom, not live data: the same load peaks at 250-254 MB with NODE_OPTIONS=--max-old-space-size=128 at equal throughput; default kept to avoid out-of-memory crashes (docs/performance.md, Memory)',
  'signin/token_rps': 'two MySQL writes + Redis Lua per exchange through the TypeORM query builder; needs fewer round trips (docs/performance.md)',
  'signin/signin_rps': 'three requests, each with MySQL/Redis round trips; bound by the /api/user and token costs above',
  webhooks:
    'at the target, not above it: one worker thread is ~75-80% busy, a third of it socket writes to MySQL and Redis (one job fetch, one event read, one commit per delivery); more throughput = more worker processes (docs/scaling.md)',
  'peer/signins_ratio':
    'a returning sign-in is authorize + exchange + profile; authorize and profile read no MySQL any more, so the exchange decides it (next line); profile of the phase: node crypto 25% (two RSA signatures per exchange, one per id_token and one per RFC 9068 access token; the peer signs one and issues opaque access tokens), socket writes 21%, GC 9% (docs/performance.md)',
  'peer/exchanges_ratio':
    'one autocommit INSERT (the access token row) + Redis (code, session count, revocation check) per exchange; profile of the phase: node crypto + jose 30% (two RS256 signatures; the peer signs only the id_token), socket writes 23% (the MySQL INSERT alone ~12%), GC 9%. Would close it: access tokens without a MySQL row (revocation through Redis only) and ES256 signing (RFC 9068 requires RS256 support, so RS256 stays the default) (docs/performance.md)',
  'peer/profile_ratio': 'per request: one SHA-256 + Map lookup for the verified claims, one pipelined Redis read of the change signals, JSON out; no MySQL',
  'peer/user_vs_bare':
    'the bare server does no work: per request LoginSign still reads the change signals from Redis (one round trip), runs Nest routing, pipes and guards, security headers and JSON serialisation; profile: socket writes 16% (the response), ioredis 13%, GC 12%, fastify 9% (docs/performance.md)',
  'peer/signins_p99_p50': 'tail latency at saturation: 50 connections queue behind one API thread, MariaDB and Redis on 2 shared cores',
  'peer/exchanges_p99_p50': 'tail latency at saturation: 50 connections queue behind one API thread (RSA signing)',
  'peer/profile_p99_p50': 'tail latency at saturation: GC pauses',
  'peer/api_rss':
    "V8 heap headroom and a Nest process's baseline, not live data: HEAP_GROWING_PERCENT (default 50) holds the heap near 1.5x what the last full collection kept, and the caches are bounded by bytes (about 110 MB at most) (docs/performance.md, Memory)",
  'peer/all_rss': 'three Node processes (API, worker, relay), each ~110-150 MB idle; the API grows under load as above',
  'users-list':
    'a one-word name prefix ("Noah") matches ~20,000 of 1M users: the total is counted only up to 1,000 ("1,000+") and the page walked from the (joined_at, id) index, but the walk reads each walked row for the filter (~2,500 per page) and the count reads 3 x 1,001 index entries; ~20 ms p95 alone, ~100 ms with 10 clients on 2 cores (MariaDB CPU). Would close it: the searched prefixes in the list index, or a short per-application cache of a broad term\'s first page (docs/performance.md)',
};

function reading(fig, bench) {
  if (fig.target === undefined) return 'context';
  const met = fig.metRuns.filter(Boolean).length;
  if (met === fig.metRuns.length) return fig.metRuns.length > 1 ? 'met in every run' : 'met';
  const why = WHY[`${bench}/${fig.key}`] ?? WHY[bench] ?? 'see docs/performance.md';
  if (met === 0) return `missed: ${why}`;
  return `met in ${met} of ${fig.metRuns.length} runs (noise around the target): ${why}`;
}

function writeDoc(info, base, results, failures) {
  const date = new Date().toISOString().replace('T', ' ').replace(/\..*/, ' UTC');
  const rows = [];
  const push = (label, values, unit, target, readingText) => {
    const med = median(values);
    const range = values.length > 1 ? `${fmt(Math.min(...values), unit)} - ${fmt(Math.max(...values), unit)}` : '(1 run)';
    rows.push(`| ${label} | ${fmt(med, unit)} ${unit} | ${range} | ${target ?? ''} | ${readingText} |`);
  };
  const baseMed = median(base.values);
  push('bare node:http, fixed /api/user JSON (baseline)', base.values, 'req/s', '', 'the ceiling of one Node process on this machine, autocannon beside it');
  for (const bench of results) {
    const figs = new Map();
    for (const run of bench.runs) {
      for (const f of run.result?.figures ?? []) {
        if (!figs.has(f.key)) figs.set(f.key, { ...f, values: [], metRuns: [] });
        const g = figs.get(f.key);
        g.values.push(f.value);
        g.metRuns.push(f.met);
        if (f.note) g.note = f.note;
      }
    }
    if (figs.size === 0) {
      rows.push(`| ${bench.name} | - | - | - | no figures: every run failed (see bench-results/${bench.name}-*.log) |`);
      continue;
    }
    for (const f of figs.values()) {
      const met = f.metRuns.every(Boolean) ? 'met' : f.metRuns.some(Boolean) ? 'partly met' : 'MISSED';
      push(f.label, f.values, f.unit, f.target ? `${f.target} (${met})` : '', `${reading(f, bench.name)}${f.note ? `; last run: ${f.note}` : ''}`);
      if (bench.name === 'signin' && f.key === 'user_rps') {
        const ratios = f.values.map((v, i) => v / (base.values[i] ?? baseMed));
        const ok = ratios.map((r) => r >= 0.25);
        push(
          'GET /api/user as a share of the bare baseline',
          ratios.map((r) => r * 100),
          '%',
          `>= 25% (${ok.every(Boolean) ? 'met' : ok.some(Boolean) ? 'partly met' : 'MISSED'})`,
          ok.every(Boolean)
            ? 'API work per request vs. an empty Node server on the same machine'
            : `missed: per-run ratios ${ratios.map((r) => `${(r * 100).toFixed(1)}%`).join(', ')}; the baseline itself varied ${fmt(Math.min(...base.values))}-${fmt(Math.max(...base.values))} req/s between runs (shared 2-core VM), and one API request still does JWT verify, the authz_version read, helmet's headers and Nest/fastify routing`,
        );
      }
    }
  }
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${date} (${RUNS === 1 ? '1 run per figure: --quick, no median' : `median of ${RUNS} runs, min - max beside it`}).`,
    '',
    '## Machine',
    '',
    `- ${info.cores} cores (${info.model}), ${info.memory} memory, ${info.os}`,
    `- Node ${info.node}, ${info.db}, ${info.redis}`,
    '- Load generator (autocannon), API, worker, MariaDB and Redis all share this machine.',
    '',
    '## Figures',
    '',
    '| figure | median | min - max | target | reading |',
    '|---|---:|---:|---|---|',
    ...rows,
    '',
    '## How they were measured',
    '',
    '- `bench:global-id`: 100,000 Global ID allocations at the start and at the end of the id space (50 concurrent, one process, MariaDB).',
    `- \`bench:signin\`: one production API process; autocannon with 50 connections: GET /api/user with valid tokens, POST /oauth/token with fresh codes, and the 3-request returning-user sign-in. The baseline is a bare \`node:http\` server answering the same-size JSON, measured the same way (${BASELINE_SECONDS} s, 50 connections) in this run.`,
    '- `bench:users-list`: 1,000,000 connections of one application (bulk-seeded), each scenario 1 and 10 concurrent clients; the figure is the worse p95 of the two.',
    '- `bench:webhooks`: 10,000 events inserted at once, one worker process, delivered to a local receiver.',
    '- `bench:relay`: messages sent over SMTP to relay addresses, forwarded by one worker to a local sink.',
    '- `bench:accounts`: argon2id hash/verify and the TOTP code check in-process; JSON logins with and without two-step, and sign-ups with the per-IP limit on (default) and off (allowlisted), through one production API process.',
    '- `bench:peer`: node-oidc-provider 9.13.3 (the engine under Logto, one process, Redis adapter: `bench/peer/peer-server.ts`) and LoginSign (API + worker + relay, production) one after the other, the same returning-user flow (authorize with a session and remembered consent -> code exchange with PKCE and client_secret_basic -> profile: `/me` / `/api/user`), 50 connections, warm-up then 3 rounds per phase (median, min-max); CPU per operation from `/proc/<pid>/stat` of the server processes and of `mariadbd` + `redis-server`; plus the bare `node:http` server in the same run. The ratios are the figures: absolute rates move with whatever else runs on the machine.',
    '- `bench:housekeeping` (run on its own, it takes minutes): table and Redis key counts before and after 100,000 sign-ins and the housekeeping job, in [table-sizes.md](table-sizes.md).',
    "- Each run's full output (with CPU split per process, and profiles when `BENCH_PROFILE=1`) is in `bench-results/` (not committed). Where the time goes: `docs/performance.md`.",
    '',
  ];
  if (only.length) lines.push(...carriedOver(results.map((b) => b.name)));
  const warnings = results.flatMap((b) => b.runs.flatMap((r, i) => (r.warnings ?? []).map((w) => `- ${b.name} run ${i + 1}: ${w.replace(/^WARNING:?\s*/, '')}`)));
  if (warnings.length)
    lines.push('## Warnings printed by the benches', '', 'Figures measured while other processes used the CPU are lower than on a quiet machine.', '', ...warnings, '');
  if (failures.length) lines.push('## Runs that failed', '', ...failures.map((f) => `- ${f}`), '');
  mkdirSync(path.dirname(DOC), { recursive: true });
  writeFileSync(DOC, `${lines.join('\n')}`);
}

/**
 * With --only: the previous doc's figures, kept under their own date (they were
 * not measured in this run), so a partial run does not erase the others.
 */
function carriedOver(measured) {
  if (!existsSync(DOC)) return [];
  const previous = readFileSync(DOC, 'utf8').split('\n');
  const generated = previous.find((l) => l.startsWith('Generated by') || l.startsWith('From '));
  const start = previous.findIndex((l) => l.startsWith('| figure |'));
  if (start < 0) return [];
  let end = start;
  while (end < previous.length && previous[end].startsWith('|')) end++;
  const rows = previous.slice(start + 2, end).filter((row) => !row.startsWith('| bare node:http') && !measured.some((name) => PEER_ROWS[name]?.(row)));
  if (!rows.length) return [];
  const when = generated ? generated.replace(/^Generated by/, 'From').replace(/\.$/, '') : 'From an earlier run';
  return ['## Figures not re-measured in this run', '', `${when}:`, '', previous[start], previous[start + 1], ...rows, ''];
}

/** Rows of a bench's own figures in an earlier doc (so they are replaced, not carried over). */
const PEER_ROWS = { peer: (row) => /LoginSign \/ peer|peer-bench|bare node:http server|LoginSign (signins|exchanges|profile)|worker \+ relay/.test(row) };

function reportOnly(info) {
  const base = JSON.parse(readFileSync(path.join(OUT_DIR, 'baseline.json'), 'utf8'));
  const results = [];
  const failures = [];
  for (const bench of BENCHES) {
    const runs = [];
    for (let run = 1; run <= (bench.runs ?? RUNS); run++) {
      const jsonFile = path.join(OUT_DIR, `${bench.name}-${run}.json`);
      const logFile = path.join(OUT_DIR, `${bench.name}-${run}.log`);
      if (!existsSync(logFile)) continue;
      const output = readFileSync(logFile, 'utf8');
      const result = existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : null;
      if (!result) failures.push(`${bench.name} run ${run}: no figures, see ${path.relative(root, logFile)}`);
      runs.push({
        result,
        logFile,
        warnings: output
          .split('\n')
          .filter((l) => /^\s*WARNING/.test(l))
          .map((l) => l.trim()),
      });
    }
    results.push({ name: bench.name, runs });
  }
  writeDoc(info, base, results, failures);
  log(`wrote ${path.relative(root, DOC)} from bench-results/`);
}

async function main() {
  await prepare(() => log('building (SWC: apps + libs -> dist)'));
  mkdirSync(OUT_DIR, { recursive: true });
  const info = await machine();
  log(`machine: ${info.cores} cores, ${info.memory}, node ${info.node}, ${info.db}, ${info.redis}; ${RUNS} run(s) per bench`);
  log(`baseline: bare node:http /api/user, ${CONNECTIONS} connections, ${BASELINE_SECONDS} s x ${RUNS}`);
  if (REPORT_ONLY) return reportOnly(info);
  const base = await baseline();
  writeFileSync(path.join(OUT_DIR, 'baseline.json'), JSON.stringify(base));
  const results = [];
  const failures = [];
  for (const bench of BENCHES) {
    const runs = [];
    const count = bench.runs ?? RUNS;
    for (let run = 1; run <= count; run++) {
      log(`${bench.name} ${run}/${count}: starting (npm run bench:${bench.name})`);
      const r = await runOnce(bench, run, count);
      runs.push(r);
      if (r.code !== 0) failures.push(`${bench.name} run ${run}: exit code ${r.code}, see ${path.relative(root, r.logFile)}`);
      for (const f of r.result?.figures ?? []) log(`${bench.name} ${run}/${count}: ${f.label}: ${fmt(f.value, f.unit)} ${f.unit}${f.target ? ` (target ${f.target})` : ''}`);
    }
    if (bench.after) await bench.after(count);
    results.push({ name: bench.name, runs });
  }
  writeDoc(info, base, results, failures);
  log(`wrote ${path.relative(root, DOC)}`);
  process.stdout.write(readFileSync(DOC, 'utf8'));
}

main().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
