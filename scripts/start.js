#!/usr/bin/env node
// npm start: install, build, create + migrate the database, start the API, the worker and the email relay,
// create the demo data once, print how to try a sign-in. Ctrl-C stops everything it started.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { root, prepare } = require('./lib');

const children = [];
let stopping = false;

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

function run(name, script) {
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, script)], { cwd: root, stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`> ${name} exited (${signal ?? code}); stopping the rest`);
      stop(1);
    }
  });
  children.push(child);
  return child;
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

async function main() {
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  await prepare(() => console.log('> building'));
  require('reflect-metadata');
  const { loadConfig } = require(`${root}/dist/libs/config/src`);
  const { migrate } = require(`${root}/dist/libs/database/src`);
  const config = loadConfig();
  await migrate(config, (line) => console.log(`> ${line}`));

  run('api', 'dist/apps/api/src/main.js');
  // API_PROCESSES > 1: main.js is a node:cluster primary that forks them. WORKER_PROCESSES copies of the worker.
  const workers = Number(process.env.WORKER_PROCESSES || 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`WORKER_PROCESSES must be a whole number from 1 to 64, got "${process.env.WORKER_PROCESSES}"`);
  for (let i = 1; i <= workers; i++) run(workers > 1 ? `worker ${i}` : 'worker', 'dist/apps/worker/src/main.js');
  run('relay', 'dist/apps/relay/src/main.js');
  const localUrl = `http://127.0.0.1:${config.port}`;
  await waitReady(localUrl);

  // Demo data is a convenience: a failure is a warning in the banner, never a reason to stop.
  let demo;
  try {
    demo = await require('./demo').ensureDemo(localUrl, config.publicUrl);
  } catch (error) {
    demo = [`! warning: could not prepare the demo data: ${error.message || error}`];
  }
  const banner = [`LoginSign is running at ${config.publicUrl}`, '', ...demo, '', 'Press Ctrl-C to stop.'];
  console.log(`\n${banner.map((line) => (line ? `  ${line}` : '')).join('\n')}\n`);
}

main().catch((error) => {
  console.error(`> ${error.message || error}`);
  stop(1);
  if (children.length === 0) process.exit(1);
});
