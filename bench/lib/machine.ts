// The conditions a figure was measured under: is something else using the
// CPU, and which code was built.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { CpuSampler, sleep } from './measure';
import { root } from './processes';

/**
 * Waits (up to `maxWaitMs`) until the rest of the machine uses less than
 * `threshold` cores over a second, so the figures are not those of another
 * job's load. Never fails: prints a warning and goes on.
 */
export async function quietMachine(threshold = 0.3, maxWaitMs = 60_000): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let warned = false;
  for (;;) {
    const sampler = new CpuSampler({ self: [process.pid] }).start();
    await sleep(1000);
    const c = sampler.stop();
    const others = Math.max(0, c.machine - c.self);
    if (others < threshold) return others;
    if (Date.now() > deadline) {
      console.log(`    WARNING: other processes still use ${others.toFixed(2)} of ${cpus().length} cores; the figures below are lower than on a quiet machine`);
      return others;
    }
    if (!warned) {
      console.log(`    other processes use ${others.toFixed(2)} of ${cpus().length} cores; waiting up to ${maxWaitMs / 1000}s for a quiet machine...`);
      warned = true;
    }
  }
}

/** "code: a1b2c3d + uncommitted changes in 3 file(s) under apps/ libs/" (what dist/ was built from). */
export function codeState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return `code: ${head}${dirty ? ` + uncommitted changes in ${dirty} file(s) under apps/ libs/` : ''}`;
  } catch {
    return 'code: (git not available)';
  }
}
