// Machine-readable figures of a bench run, for `npm run bench` (scripts/bench.js):
// with BENCH_JSON=<file> in the environment (or --json=<file>), a bench writes
// {bench, figures: [...]} there once it has its results. Without it, nothing.
import { writeFileSync } from 'node:fs';

export interface Figure {
  /** Stable id, e.g. "user_rps". */
  key: string;
  label: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. ">= 8,000 req/s". */
  target?: string;
  met?: boolean;
  /** Extra context shown beside the figure (p50/p99, CPU, ...). */
  note?: string;
}

export function jsonOutputFile(argv = process.argv.slice(2)): string | null {
  for (const arg of argv) {
    const m = /^--json=(.+)$/.exec(arg);
    if (m) return m[1];
  }
  return process.env.BENCH_JSON || null;
}

/** Writes the figures when a JSON output file was asked for. */
export function writeFigures(bench: string, figures: Figure[]): void {
  const file = jsonOutputFile();
  if (!file) return;
  writeFileSync(file, JSON.stringify({ bench, at: new Date().toISOString(), figures }, null, 2));
}
