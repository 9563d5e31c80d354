import { sha256 } from '@app/common';

/**
 * At most this many verified access tokens per process. An entry is the
 * SHA-256 of a token (a 44-character key) and its claims, about 0.5 KB, so a
 * full cache holds about 25 MB.
 */
export const VERIFIED_TOKENS_MAX = 50_000;

interface Entry<T> {
  claims: T;
  expiresAt: number;
}

/**
 * The claims of access tokens whose signature this process has already
 * checked, keyed by the SHA-256 of the token (the token itself is not kept),
 * each until the token's `exp`. Least recently used entries go first when full.
 * Only the signature check is skipped: revocation is looked up separately.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly max = VERIFIED_TOKENS_MAX) {}

  static keyOf(token: string): string {
    return sha256(token).toString('base64');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= Date.now()) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.set(key, entry);
    return entry.claims;
  }

  set(key: string, claims: T, expiresAt: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { claims, expiresAt });
  }
}
