import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface ApiProcess {
  child: ChildProcess;
  baseUrl: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts apps/api as a real child process (like a second machine behind a
 * load balancer) on `port`, with the test's environment; resolves once
 * /health/ready answers 200.
 */
export async function startApiProcess(env: Record<string, string>, port: number, processes = 1): Promise<ApiProcess> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/run-ts.js'), path.join(root, 'apps/api/src/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), API_PROCESSES: String(processes), LOG_LEVEL: process.env.TEST_API_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API process exited early:\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`API process not ready in 30 s:\n${output}`);
    try {
      const res = await fetch(`${baseUrl}/health/ready`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    baseUrl,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
