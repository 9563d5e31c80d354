import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase } from '@app/database';
import { freePort } from '../support/api-process';
import { testEnv } from '../support/harness';
import { scrape } from '../support/prometheus';

const root = path.resolve(__dirname, '../..');
const BANNER_END = 'Press Ctrl-C to stop.';

/** The environment of one `npm start`: its own database, Redis prefix, secrets and free ports. */
async function startEnv(extra: Record<string, string>): Promise<Record<string, string>> {
  const env = testEnv();
  const [port, smtp, workerMetrics, relayMetrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const rest: Record<string, string> = { ...env };
  delete rest.LOG_LEVEL; // the default level, as a developer has it
  return {
    ...rest,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOST: '127.0.0.1',
    RELAY_SMTP_PORT: String(smtp),
    WORKER_METRICS_PORT: String(workerMetrics),
    RELAY_METRICS_PORT: String(relayMetrics),
    ...extra,
  };
}

/** Collects a process's output; waitFor resolves once `predicate(output)` holds (bounded). */
function watch(child: ChildProcess) {
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return {
    output: () => output,
    async waitFor(predicate: (out: string) => boolean, timeoutMs: number, what: string) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(output)) {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${what}:\n${output.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`no ${what} in ${timeoutMs} ms:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), timeoutMs);
  await once(child, 'exit');
  clearTimeout(timer);
}

describe('npm start', () => {
  it('on a developer terminal: readable lines that fit on one screen, the banner last, pointing at the portal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ls-start-'));
    const env = await startEnv({ NODE_ENV: 'development', DEMO_FILE: path.join(dir, 'demo.json') });
    // `script` gives the process a terminal, as a developer's shell would; Ctrl-C is typed into it.
    const child = spawn('script', ['-qfec', 'node scripts/start.js', '/dev/null'], {
      cwd: root,
      env: { ...process.env, ...env, TERM: 'xterm', COLUMNS: '160', LINES: '50' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out = watch(child);
    try {
      await out.waitFor((o) => o.includes(BANNER_END), 120_000, 'banner');
      const text = out
        .output()
        .replace(/\x1b\[[0-9;]*m/g, '')
        .replace(/\r/g, '');
      const lines = text.trimEnd().split('\n');
      expect(lines.length).toBeLessThanOrEqual(40);
      expect(text).not.toMatch(/^\{"level"/m);
      expect(text).not.toContain('Mapped {');
      expect(text).not.toContain('dependencies initialized');
      expect(text).toMatch(/INFO \(api\): LoginSign API listening on/);
      expect(text).toMatch(/INFO \(api\): POST \/api\/developer\/signup 201 \d+ ms/);
      // The banner is the end of the output, after every start-up request's line.
      const bannerStart = lines.findIndex((l) => l.includes('LoginSign is running at'));
      expect(bannerStart).toBeGreaterThan(0);
      const lastRequest = lines.findLastIndex((l) => /INFO \(api\): [A-Z]+ \//.test(l));
      expect(lines[lastRequest]).toMatch(/POST \/api\/developer\/logout 204/);
      expect(lastRequest).toBeLessThan(bannerStart);
      const banner = lines.slice(bannerStart).join('\n');
      expect(lines[lines.length - 1].trim()).toBe(BANNER_END);
      expect(banner).toContain(`${env.PUBLIC_URL}/developer`);
      expect(banner).toContain(`${env.PUBLIC_URL}/login`);
      expect(banner).not.toContain('/api/');
      expect(banner).not.toMatch(/INFO|\{"/);

      child.stdin.write('\x03');
      await out.waitFor((o) => o.includes('stopping LoginSign'), 10_000, 'stop');
      await waitExit(child, 20_000);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
      await dropDatabase(env.DATABASE_URL);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('NODE_ENV=production from a fresh clone: installs the build tools, builds, runs with production dependencies only', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ls-clone-'));
    // A fresh clone of the committed HEAD (a branch or a detached commit alike): no node_modules, no dist.
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    execFileSync('git', ['init', '--quiet', dir]);
    execFileSync('git', ['fetch', '--quiet', '--depth=1', `file://${root}`, 'HEAD'], { cwd: dir });
    execFileSync('git', ['checkout', '--quiet', 'FETCH_HEAD'], { cwd: dir });
    expect(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()).toBe(head);
    const env = await startEnv({ NODE_ENV: 'production', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' });
    const child = spawn('npm', ['start'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = watch(child);
    try {
      await out.waitFor((o) => o.includes(BANNER_END), 170_000, 'banner');
      expect((await fetch(`${env.PUBLIC_URL}/health/ready`)).status).toBe(200);
      // Built, then the development dependencies were removed.
      expect(existsSync(path.join(dir, 'dist/apps/api/src/main.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'node_modules/.bin/swc'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules/jest'))).toBe(false);
      expect(existsSync(path.join(dir, 'node_modules/prom-client'))).toBe(true);
      // Production: JSON logs, no demo data.
      expect(out.output()).toMatch(/^\{"level":30,.*"msg":"LoginSign API listening on/m);
      expect(out.output()).not.toContain('Demo user');
      for (const url of [`${env.PUBLIC_URL}/metrics`, `http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`, `http://127.0.0.1:${env.RELAY_METRICS_PORT}/metrics`]) {
        expect((await scrape(url)).value('process_resident_memory_bytes')).toBeGreaterThan(0);
      }
      process.kill(-child.pid!, 'SIGTERM');
      await waitExit(child, 20_000);
      expect(out.output()).toContain('stopping LoginSign');
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
      await dropDatabase(env.DATABASE_URL);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
