interface Entry<T> {
  value: T;
  version: number;
  expiresAt: number;
}

const MAX_ENTRIES = 100_000;

/**
 * In-process cache of token lookups, valid while `authz_version` has not
 * moved and the token has not expired. Bounded: the oldest entries go first.
 */
export class TokenLookupCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  get(tokenId: string, version: number): T | undefined {
    const entry = this.entries.get(tokenId);
    if (!entry) return undefined;
    if (entry.version !== version || entry.expiresAt <= Date.now()) {
      this.entries.delete(tokenId);
      return undefined;
    }
    return entry.value;
  }

  set(tokenId: string, value: T, version: number, expiresAt: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tokenId, { value, version, expiresAt });
  }
}
