import { ByteBudgetLru } from '../cache/lru';
import { AccessChangeSignals, AccessSnapshot, AccessVersions } from './access-change-signals';

interface Entry<V> {
  value: V;
  versions: AccessVersions;
  expiresAt: number;
}

/** Per-entry overhead beside the value: the map slot, the versions (two 22-character strings), the key. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * In-process cache of lookups that depend on one user and one application
 * (token rows, connections): an entry answers while the change signals of
 * that user and application hold the versions it was cached under (see
 * AccessChangeSignals) and it has not expired. Bounded by bytes, least
 * recently used first: `sizeOf` estimates what a value keeps alive.
 */
export class SignalledCache<V> {
  private readonly entries: ByteBudgetLru<string, Entry<V>>;

  constructor(budgetBytes: number, sizeOf: (value: V) => number) {
    this.entries = new ByteBudgetLru(budgetBytes, (key, entry) => ENTRY_OVERHEAD_BYTES + 2 * key.length + sizeOf(entry.value));
  }

  /** The cached value whatever its versions (to know whose signals to read). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  get(key: string, now: AccessSnapshot): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (!AccessChangeSignals.holds(entry.versions, now) || entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, versions: AccessVersions, expiresAt: number): void {
    this.entries.set(key, { value, versions, expiresAt });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The estimated bytes kept (for the memory figures of the benchmarks and metrics). */
  get bytes(): number {
    return this.entries.bytes;
  }
}

/** Rough bytes a flat record of strings, numbers and dates keeps alive. */
export function flatRecordBytes(record: object): number {
  let bytes = 64;
  for (const value of Object.values(record)) bytes += 16 + (typeof value === 'string' ? 2 * value.length : 8);
  return bytes;
}
