import { ByteBudgetLru, flatRecordBytes, sha256Base64 } from '@app/common';

/** What one entry costs beside its claims: the 44-character key, the map slot, the expiry. */
export const VERIFIED_ENTRY_OVERHEAD_BYTES = 256;
/**
 * At most this many bytes of verified access tokens per process: with
 * typical claims (~0.4 KB) about 50,000 tokens.
 */
export const VERIFIED_TOKENS_BUDGET_BYTES = 24 * 1024 * 1024;

interface Entry<T> {
  claims: T;
  expiresAt: number;
}

/**
 * The claims of access tokens whose signature this process has already
 * checked, keyed by the SHA-256 of the token (the token itself is not kept),
 * each until the token's `exp`. Bounded by bytes: the least recently used
 * entries go first. Only the signature check is skipped: revocation is looked
 * up separately.
 */
export class VerifiedTokenCache<T extends object> {
  private readonly entries: ByteBudgetLru<string, Entry<T>>;

  constructor(budgetBytes = VERIFIED_TOKENS_BUDGET_BYTES, sizeOf: (claims: T) => number = flatRecordBytes) {
    this.entries = new ByteBudgetLru(budgetBytes, (key, entry) => VERIFIED_ENTRY_OVERHEAD_BYTES + 2 * key.length + sizeOf(entry.claims));
  }

  static keyOf(token: string): string {
    return sha256Base64(token);
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.bytes;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  set(key: string, claims: T, expiresAt: number): void {
    this.entries.set(key, { claims, expiresAt });
  }
}
