#!/usr/bin/env node
// npm start: install, build, create + migrate the database, start the API, the worker and the email relay,
// create the demo data once (not in production), print how to try a sign-in. Ctrl-C stops everything it started.
// With NODE_ENV=production the build tools are installed for the build, then removed (npm prune --omit=dev),
// and the processes run with the production dependencies only.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const readline = require('node:readline');
const { root, PROCESS_ENV, ensureInstalled, pruneDevDependencies, build, checkServices } = require('./lib');

const production = process.env.NODE_ENV === 'production';
const children = [];
let stopping = false;
/** Lines the children print are passed through; one that contains this marker is swallowed and ends waitForLogMarker. */
const marker = { text: `npm-start-${randomBytes(6).toString('hex')}`, seen: null };

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n> stopping LoginSign...');
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, 10000);
  force.unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
}

function forward(stream, out) {
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (line.includes(marker.text)) {
      if (!line.includes('incoming request')) marker.seen?.();
      return;
    }
    out.write(`${line}\n`);
  });
}

function run(name, script, env = {}) {
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, script)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...PROCESS_ENV, ...process.env, ...childLogEnv(), ...env },
  });
  forward(child.stdout, process.stdout);
  forward(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`> ${name} exited (${signal ?? code}); stopping the rest`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

/** The children's output passes through a pipe: they print readable lines when this terminal would get them. */
function childLogEnv() {
  if (process.env.LOG_FORMAT || production || !process.stdout.isTTY) return {};
  return { LOG_FORMAT: 'pretty' };
}

async function waitReady(url, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // Not listening yet: try again.
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API did not become ready at ${url}/health/ready`);
}

/**
 * The API logs a request once its answer has gone out, so the log line of the
 * last start-up request can reach the terminal after the client has its
 * answer. One more request, with the marker in its URL and request id, and
 * waiting for its (swallowed) log line puts every earlier line before the banner.
 */
async function waitForLogMarker(url, logLevel) {
  if (!['info', 'debug', 'trace'].includes(logLevel)) return;
  const seen = new Promise((resolve) => (marker.seen = resolve));
  await fetch(`${url}/health?${marker.text}`, { headers: { 'x-request-id': marker.text } })
    .then((res) => res.arrayBuffer())
    .catch(() => undefined);
  let timer;
  await Promise.race([seen, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
}

async function main() {
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  ensureInstalled();
  console.log('> building');
  build();
  if (production) pruneDevDependencies();
  await checkServices();
  require('reflect-metadata');
  const { loadConfig } = require(`${root}/dist/libs/config/src`);
  const { migrate } = require(`${root}/dist/libs/database/src`);
  const config = loadConfig();
  const applied = [];
  await migrate(config, (line) => applied.push(line));
  console.log(applied.length ? `> database migrated (${applied.length} migrations applied)` : '> database is up to date');

  run('api', 'dist/apps/api/src/main.js');
  // API_PROCESSES > 1: main.js is a node:cluster primary that forks them. WORKER_PROCESSES copies of the worker,
  // each serving its metrics on its own port (WORKER_METRICS_PORT, the next one, ...).
  const workers = Number(process.env.WORKER_PROCESSES || 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`WORKER_PROCESSES must be a whole number from 1 to 64, got "${process.env.WORKER_PROCESSES}"`);
  const metricsPort = (i) => String(config.metrics.workerPort === 0 ? 0 : config.metrics.workerPort + i - 1);
  for (let i = 1; i <= workers; i++) run(workers > 1 ? `worker ${i}` : 'worker', 'dist/apps/worker/src/main.js', { WORKER_METRICS_PORT: metricsPort(i) });
  run('relay', 'dist/apps/relay/src/main.js');
  const localUrl = `http://127.0.0.1:${config.port}`;
  await waitReady(localUrl);

  let demo = [];
  if (!production) {
    // Demo data is a convenience: a failure is a warning in the banner, never a reason to stop.
    try {
      demo = await require('./demo').ensureDemo(localUrl, config.publicUrl);
    } catch (error) {
      demo = [`! warning: could not prepare the demo data: ${error.message || error}`];
    }
  }
  await waitForLogMarker(localUrl, config.logLevel);
  const banner = production
    ? [
        `LoginSign is running at ${config.publicUrl} (production)`,
        '',
        `Metrics: ${config.publicUrl}/metrics, worker :${config.metrics.workerPort}, relay :${config.metrics.relayPort}`,
        '',
        'Press Ctrl-C to stop.',
      ]
    : [`LoginSign is running at ${config.publicUrl}`, '', ...demo, '', 'Press Ctrl-C to stop.'];
  console.log(`\n${banner.map((line) => (line ? `  ${line}` : '')).join('\n')}\n`);
}

main().catch((error) => {
  console.error(`> ${error.message || error}`);
  stop(1);
  if (children.length === 0) process.exit(1);
});
