// Where the time goes: summarises a V8 .cpuprofile (from child-preload.js)
// into self time per function and per package.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './measure';
import { root, Service } from './processes';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled milliseconds, idle excluded. */
  busyMs: number;
  idleMs: number;
  functions: { name: string; ms: number; share: number }[];
  packages: { name: string; ms: number; share: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  if (file.startsWith(root)) return path.relative(root, file);
  return file;
}

/** node_modules package, node core module area, app library, or a V8 pseudo-node. */
function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (file.startsWith('node:')) {
    const parts = file.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}`.replace(/\.js$/, '') : parts[0]}`;
  }
  const rel = path.relative(root, file);
  const m = /^dist\/(apps|libs)\/([^/]+)/.exec(rel);
  return m ? `app:${m[1]}/${m[2]}` : rel;
}

function top(map: Map<string, number>, busyMs: number, n: number) {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, value]) => ({ name, ms: value / 1000, share: value / 1000 / busyMs }));
}

const where = (frame: ProfileNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;

export function summariseProfile(file: string, n = 8): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** The nearest ancestor frame matching `test`. */
  const ancestor = (id: number, test: (frame: ProfileNode['callFrame']) => boolean) => {
    for (let cur = parent.get(id); cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (test(frame)) return frame;
    }
    return null;
  };
  const self = new Map<number, number>();
  // Sample i lasts until sample i+1 (microseconds).
  for (let i = 0; i < profile.samples.length; i++) {
    const duration = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + Math.max(0, duration));
  }
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, micros] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    let name: string;
    let pkg: string;
    if (!frame.url && !frame.functionName.startsWith('(')) {
      // A native function (C++ binding): name it by its JS caller, and by the first
      // caller outside Node's own modules (the library or app code that asked for it).
      const js = ancestor(id, (f) => !!f.url);
      const user = ancestor(id, (f) => !!f.url && !f.url.startsWith('node:'));
      name = `${frame.functionName || '(anonymous)'} [native]${js ? ` in ${where(js)}` : ''}${user && user !== js ? ` via ${where(user)}` : ''}`;
      pkg = js ? packageOf(js) : '(native)';
    } else {
      name = frame.url ? where(frame) : frame.functionName;
      pkg = packageOf(frame);
    }
    functions.set(name, (functions.get(name) ?? 0) + micros);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  const busyMs = busy / 1000;
  return { busyMs, idleMs: idle / 1000, functions: top(functions, busyMs, n), packages: top(packages, busyMs, n) };
}

/** Waits for the profile file a child writes after its profiler is stopped. */
export async function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no CPU profile at ${file} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** One line per package share, then the top functions, indented. */
export function formatProfile(summary: ProfileSummary): string[] {
  const busyShare = summary.busyMs / (summary.busyMs + summary.idleMs || 1);
  return [
    `JS thread busy ${pct(busyShare)} of the window; by package: ${summary.packages.map((p) => `${p.name} ${pct(p.share)}`).join(', ')}`,
    'top self time:',
    ...summary.functions.map((f) => `  ${pct(f.share).padStart(4)}  ${f.name}`),
  ];
}

/** `<BENCH_PROFILE_DIR or /tmp/prof>/<bench>-<time>` when BENCH_PROFILE=1, else null. */
export function profileDir(bench: string): string | null {
  return process.env.BENCH_PROFILE === '1' ? path.join(process.env.BENCH_PROFILE_DIR ?? '/tmp/prof', `${bench}-${Date.now()}`) : null;
}

/**
 * CPU profiles of one child process over chosen windows (the child must have
 * BENCH_PROFILE_DIR=dir in its environment; see child-preload.js).
 */
export class WindowProfiler {
  private count = 0;

  constructor(
    private readonly service: Service,
    readonly dir: string,
  ) {}

  start(): void {
    this.service.profiler('start');
  }

  /** Stops, waits for the file, returns its path and the summary lines. */
  async stop(): Promise<{ file: string; lines: string[] }> {
    this.service.profiler('stop');
    const file = path.join(this.dir, `${this.service.pid}-${++this.count}.cpuprofile`);
    await waitForFile(file);
    return { file, lines: formatProfile(summariseProfile(file)) };
  }
}
