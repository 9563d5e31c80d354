/**
 * A least-recently-used map bounded by bytes, not entries: each entry's cost
 * comes from `sizeOf` (an estimate of what the entry keeps alive), and the
 * least recently read or written entries go once the total exceeds the budget.
 * A Map keeps insertion order, so re-inserting on read is the recency list.
 */
export class ByteBudgetLru<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private used = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly sizeOf: (key: K, value: V) => number,
  ) {
    if (!(budgetBytes > 0)) throw new Error(`ByteBudgetLru: the budget must be a positive number of bytes, got ${budgetBytes}`);
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`; one larger than the whole budget is not kept (and drops what `key` held). */
  set(key: K, value: V): void {
    this.delete(key);
    const bytes = this.sizeOf(key, value);
    if (bytes > this.budgetBytes) return;
    this.entries.set(key, { value, bytes });
    this.used += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.used <= this.budgetBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.used -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the kept entries' sizes. */
  get bytes(): number {
    return this.used;
  }
}
