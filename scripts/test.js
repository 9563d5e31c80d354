#!/usr/bin/env node
// npm test: installs what is missing, checks MySQL and Redis, runs every jest suite.
// Each suite creates, migrates and drops its own database and Redis key prefix.
const { spawnSync } = require('node:child_process');
const { mkdirSync } = require('node:fs');
const path = require('node:path');
const { root, ensureInstalled, checkServices } = require('./lib');

async function main() {
  ensureInstalled();
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
