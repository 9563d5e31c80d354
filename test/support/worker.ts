import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  /** SIGTERM and wait (graceful), or SIGKILL for crash tests. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

/** Starts apps/worker as a real child process with the test's environment. */
export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/run-ts.js'), path.join(root, 'apps/worker/src/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const started = Date.now();
  while (!output.includes('LoginSign worker started')) {
    if (child.exitCode !== null) throw new Error(`worker exited early:\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`worker did not start in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
