import { setFlagsFromString } from 'node:v8';

/**
 * Caps how far V8 lets the old generation grow past what the last full
 * collection kept (HEAP_GROWING_PERCENT; 0 keeps V8's own factor). V8 adapts
 * that factor up to 4x under a high allocation rate: with ~90 MB live the API
 * then peaked at 500-600 MB RSS under the peer bench; 1.5x keeps it near
 * 220 MB (docs/performance.md, "Memory"). V8 reads the flag at each full
 * collection, so setting it at start is enough.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
