import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
/** How long a process may take to start (TEST_START_LIMIT_MS: more on a loaded machine, where compiling at start is slow). */
const START_LIMIT_MS = Number(process.env.TEST_START_LIMIT_MS ?? 90_000);

export interface AppProcess {
  child: ChildProcess;
  /** SIGTERM and wait (graceful), or SIGKILL for crash tests. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Everything the process printed so far. */
  output(): string;
}

/**
 * Starts one of the apps (`apps/<name>/src/main.ts`) as a real child process
 * with the test's environment, and waits until `ready(output)` returns a
 * truthy value (a log line, a port, a health check) — 90 s at most by default (a loaded CI machine compiles slowly).
 */
export async function startAppProcess<T>(
  name: 'api' | 'worker' | 'relay',
  env: Record<string, string>,
  ready: (output: string) => T | Promise<T>,
): Promise<AppProcess & { ready: T }> {
  const child = spawn(process.execPath, [path.join(root, 'scripts/run-ts.js'), path.join(root, `apps/${name}/src/main.ts`)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const started = Date.now();
  let result: T;
  while (!(result = await ready(output))) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    if (Date.now() - started > START_LIMIT_MS) throw new Error(`${name} was not ready in ${START_LIMIT_MS / 1000} s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    ready: result,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}
