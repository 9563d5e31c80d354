// Small measuring tools: percentiles, peak RSS and CPU time of processes (from /proc), formatting.
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of unsorted `values` (p in 0..100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** VmRSS of a process in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples VmRSS of `pid` every `everyMs` while running; `peak` is the highest sample. */
export class RssSampler {
  peak = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.peak = rssBytes(this.pid);
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, rssBytes(this.pid));
    }, this.everyMs);
    this.timer.unref();
    return this;
  }

  stop(): number {
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rssBytes(this.pid));
    return this.peak;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds (0 when it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

function machineCpu(): { busy: number; iowait: number } {
  const [line] = readFileSync('/proc/stat', 'utf8').split('\n');
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = n[3] + (n[4] || 0);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, iowait: (n[4] || 0) / TICKS_PER_SECOND };
}

/** Keys of CpuSampler results that are not process groups. */
const MACHINE_KEYS = new Set(['machine', 'iowait']);

/**
 * CPU used by named groups of processes over a window, in cores (1.0 = one
 * core busy the whole time), plus the machine's total busy cores.
 */
export class CpuSampler {
  private startWall = 0;
  private startCpu = new Map<string, number>();
  private startMachine = { busy: 0, iowait: 0 };
  /** Length of the last start()..stop() window. */
  seconds = 0;

  constructor(private readonly groups: Record<string, number[]>) {}

  private read(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, pids] of Object.entries(this.groups)) {
      out.set(
        name,
        pids.reduce((sum, pid) => sum + (pid === process.pid ? process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 : cpuSeconds(pid)), 0),
      );
    }
    return out;
  }

  start(): this {
    this.startWall = performance.now();
    this.startCpu = this.read();
    this.startMachine = machineCpu();
    return this;
  }

  /** Cores used per group, `machine` (all processes) and `iowait` (cores idle waiting for disk I/O). */
  stop(): Record<string, number> {
    const seconds = (this.seconds = (performance.now() - this.startWall) / 1000);
    const out: Record<string, number> = {};
    for (const [name, value] of this.read()) out[name] = (value - (this.startCpu.get(name) ?? 0)) / seconds;
    const machine = machineCpu();
    out.machine = (machine.busy - this.startMachine.busy) / seconds;
    out.iowait = (machine.iowait - this.startMachine.iowait) / seconds;
    return out;
  }
}

/** Cores used by processes outside the named groups (another job on the machine, the kernel). */
export function otherCores(cores: Record<string, number>): number {
  const named = Object.entries(cores).reduce((sum, [name, value]) => sum + (MACHINE_KEYS.has(name) ? 0 : value), 0);
  return Math.max(0, cores.machine - named);
}

/** "api 0.98, load generator 0.71, mariadb 0.22, redis 0.06, other 0.01 of 2 cores (machine 1.97 busy)". */
export function describeCpu(cores: Record<string, number>, cpuCount: number): string {
  const parts = Object.entries(cores)
    .filter(([name]) => !MACHINE_KEYS.has(name))
    .map(([name, value]) => `${name} ${value.toFixed(2)}`);
  return `${parts.join(', ')}, other ${otherCores(cores).toFixed(2)} cores of ${cpuCount} (machine ${cores.machine.toFixed(2)} busy, ${cores.iowait.toFixed(2)} in I/O wait)`;
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-');

export const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : fmt(n)} ms` : '-');

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** "target met" or "MISSED". */
export const verdict = (met: boolean) => (met ? 'target met' : 'MISSED');

export const sleep = (msec: number) => new Promise<void>((r) => setTimeout(r, msec));

/** Runs `fn` over `items` with at most `concurrency` in flight; `onDone` after each. */
export async function mapConcurrent<T, R>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<R>, onDone?: (done: number) => void): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
