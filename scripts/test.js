#!/usr/bin/env node
// npm test: installs what is missing, checks MySQL and Redis, runs every jest suite.
// Each suite creates, migrates and drops its own database and Redis key prefix.
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const { root, ensureInstalled, checkServices } = require('./lib');

/** The browser tests drive Debian's Chromium; install it when it is missing. */
function ensureChromium() {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (existsSync(chromium)) return;
  console.log('> installing Chromium for the browser tests (apt-get install chromium)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const result = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  if (result.status !== 0 || !existsSync(chromium)) throw new Error(`Chromium is missing at ${chromium} and could not be installed (apt-get install chromium)`);
}

async function main() {
  ensureInstalled();
  ensureChromium();
  await checkServices();
  mkdirSync(path.join(root, 'test-results'), { recursive: true });
  const args = [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', '--outputFile=test-results/jest.json', ...process.argv.slice(2)];
  // --experimental-vm-modules: some dependencies (e.g. @fastify/cookie) import ESM packages dynamically.
  const result = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', ...args], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test' },
  });
  process.exit(result.status ?? 1);
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
