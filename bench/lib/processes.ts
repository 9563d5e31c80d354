// The compiled API and worker as child processes of a bench, and the bench's
// own lifecycle: every child is stopped and the cleanup runs exactly once, on
// success, on an error and on Ctrl-C / SIGTERM.
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '../..');
const PRELOAD = path.join(__dirname, 'child-preload.js');

export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last ~64 KB of stdout + stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** With BENCH_PROFILE_DIR in its env: starts the CPU profiler, or stops it and writes the profile (child-preload.js). */
  profiler(action: 'start' | 'stop'): void;
}

const services: Service[] = [];

/** Lines a child prints (LOG_LEVEL=warn: only warnings and errors) are echoed, up to a limit; all of them go to a log file. */
const ECHO_LIMIT = 20;
const LOG_DIR = path.join(tmpdir(), 'loginsign-bench-logs');

/**
 * Starts `dist/...` (built by scripts/lib build()) with plain `node`, as in
 * production: no source maps, no TypeScript hook. The bench's environment is
 * inherited, then overridden by `env`.
 */
export function startService(name: string, script: string, env: Record<string, string>, nodeArgs: string[] = [], scriptArgs: string[] = []): Service {
  const file = path.join(root, script);
  if (!existsSync(file)) throw new Error(`${script} is missing; the build did not run`);
  const child = spawn(process.execPath, ['-r', PRELOAD, ...nodeArgs, file, ...scriptArgs], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'], // the IPC channel: profiler control and orphan guard
  });
  let output = '';
  let echoed = 0;
  let suppressed = 0;
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${name}-${child.pid}.log`);
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-65536);
    appendFileSync(logFile, text);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      if (echoed < ECHO_LIMIT) {
        echoed++;
        console.log(`  [${name}] ${line.slice(0, 300)}`);
      } else if (suppressed++ === 0) {
        console.log(`  [${name}] (further output not echoed; all of it is in ${logFile})`);
      }
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const service: Service = {
    name,
    child,
    pid: child.pid!,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    profiler(action) {
      child.send({ benchProfile: action });
    },
  };
  services.push(service);
  return service;
}

export function isRunning(service: Service): boolean {
  return service.child.exitCode === null && service.child.signalCode === null;
}

/** Polls `url` until it answers 2xx; fails early when `service` exits. */
export async function waitHttpOk(url: string, service: Service, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(service)) throw new Error(`${service.name} exited before ${url} was ready:\n${service.output().slice(-3000)}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms:\n${service.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all(services.map((s) => s.stop()));
}

/**
 * Runs a bench: `main` returns the exit code; `cleanup` (stop children, drop
 * the database, ...) runs once whatever happens. Ctrl-C or SIGTERM interrupt
 * `main`, run the cleanup and exit 130. A last-resort exit hook SIGKILLs any
 * child still alive.
 */
export function runBench(main: () => Promise<number>, cleanup: () => Promise<void>): void {
  let cleaning: Promise<void> | null = null;
  const cleanOnce = () =>
    (cleaning ??= (async () => {
      try {
        await stopAll();
      } catch (error) {
        console.error(`! stopping children: ${(error as Error).message}`);
      }
      try {
        await cleanup();
      } catch (error) {
        console.error(`! cleanup: ${(error as Error).message}`);
      }
    })());
  const finish = (code: number) => {
    void cleanOnce().finally(() => process.exit(code));
  };
  process.on('exit', () => {
    for (const s of services) if (isRunning(s)) s.child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (cleaning) return;
      console.log(`\n> ${signal}: stopping the bench and cleaning up...`);
      const force = setTimeout(() => process.exit(130), 30_000);
      force.unref();
      finish(130);
    });
  }
  main().then(
    (code) => finish(code),
    (error) => {
      console.error(`\nERROR: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      finish(1);
    },
  );
}

/** Pids of MySQL/MariaDB and Redis servers on this machine (for the CPU split), by /proc/<pid>/comm. */
export function findServerPids(): { mysql: number[]; redis: number[] } {
  const out = { mysql: [] as number[], redis: [] as number[] };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'mariadbd' || comm === 'mysqld') out.mysql.push(Number(entry));
    else if (comm === 'redis-server') out.redis.push(Number(entry));
  }
  return out;
}
