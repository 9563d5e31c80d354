// Helpers shared by the start, test and migrate scripts (plain Node, no dependencies).
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

const swcBin = path.join(root, 'node_modules', '.bin', 'swc');

/**
 * Environment every LoginSign process starts with (npm start, the benches; the
 * Dockerfile sets the same). glibc raises its mmap threshold to the largest
 * block freed so far: after argon2's 19 MiB password hashes it served them from
 * per-thread arenas it never returns, ~90 MB of RSS in the API. A fixed
 * threshold keeps large blocks in mmap, handed back to the system when freed.
 */
const PROCESS_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * Installs dependencies when node_modules is missing or older than the lock
 * file, or when the build tools are missing (a production install omits them:
 * `npm ci --include=dev` brings them back, whatever NODE_ENV says).
 */
function ensureInstalled() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (existsSync(marker) && mtime(marker) >= mtime(lock) && existsSync(swcBin)) return;
  console.log('> installing dependencies (npm ci)...');
  const args = existsSync(lock) ? ['ci', '--include=dev'] : ['install', '--include=dev'];
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm install failed');
}

/** Removes the development dependencies after a build (production runs with `dependencies` only). */
function pruneDevDependencies() {
  console.log('> removing development dependencies (npm prune --omit=dev)...');
  const result = spawnSync('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm prune failed');
}

/** Compiles apps/ and libs/ to dist/ with SWC (well under a second). */
function build() {
  execFileSync(swcBin, ['apps', 'libs', '-d', 'dist', '--config-file', '.swcrc', '--ignore', '**/*.spec.ts', '-q'], {
    cwd: root,
    stdio: 'inherit',
  });
}

/** Resolves when host:port accepts TCP connections, rejects after `timeoutMs`. */
function waitForPort(host, port, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const attempt = () => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${host}:${port}`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

/** A TCP port free on 127.0.0.1 right now (benches and tests start servers on it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Fails with a helpful message when MySQL or Redis is not reachable. */
async function checkServices(env = process.env) {
  const db = new URL(env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/loginsign');
  const redis = new URL(env.REDIS_URL || 'redis://127.0.0.1:6379');
  const problems = [];
  await waitForPort(db.hostname, Number(db.port || 3306), 3000).catch(() =>
    problems.push(`MySQL is not reachable at ${db.host}. Start it (e.g. start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) or set DATABASE_URL.`),
  );
  await waitForPort(redis.hostname, Number(redis.port || 6379), 3000).catch(() =>
    problems.push(`Redis is not reachable at ${redis.host}. Start it (e.g. redis-server --daemonize yes) or set REDIS_URL.`),
  );
  if (problems.length) {
    for (const p of problems) console.error(`✗ ${p}`);
    process.exit(1);
  }
}

/**
 * What every script that runs dist/ does first: installs what is missing,
 * compiles apps/ and libs/ (calling `beforeBuild` first, e.g. to say so) and
 * checks MySQL and Redis.
 */
async function prepare(beforeBuild = () => {}) {
  ensureInstalled();
  beforeBuild();
  build();
  await checkServices();
}

module.exports = { root, PROCESS_ENV, ensureInstalled, pruneDevDependencies, build, checkServices, prepare, waitForPort, freePort };
