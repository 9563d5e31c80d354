import { AccessChangeSignals, AccessSnapshot, AccessVersions } from '@app/common';

interface Entry<T> {
  value: T;
  versions: AccessVersions;
  expiresAt: number;
}

const MAX_ENTRIES = 100_000;

/**
 * In-process cache of token lookups, valid while the change signals of the
 * token's user and application hold the versions it was cached under (see
 * AccessChangeSignals) and the token has not expired. Bounded: the oldest
 * entries go first.
 */
export class TokenLookupCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** The cached value whatever its versions (to know whose signals to read). */
  peek(tokenId: string): T | undefined {
    return this.entries.get(tokenId)?.value;
  }

  get(tokenId: string, now: AccessSnapshot): T | undefined {
    const entry = this.entries.get(tokenId);
    if (!entry) return undefined;
    if (!AccessChangeSignals.holds(entry.versions, now) || entry.expiresAt <= Date.now()) {
      this.entries.delete(tokenId);
      return undefined;
    }
    return entry.value;
  }

  set(tokenId: string, value: T, versions: AccessVersions, expiresAt: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tokenId, { value, versions, expiresAt });
  }

  delete(tokenId: string): void {
    this.entries.delete(tokenId);
  }
}

/** Whose a connection is (user and application): facts that never change, kept per process (bounded like the cache). */
export class ConnectionOwners {
  private readonly owners = new Map<string, { userId: string; applicationId: string }>();

  get(connectionId: string): { userId: string; applicationId: string } | undefined {
    return this.owners.get(connectionId);
  }

  set(connectionId: string, userId: number | string, applicationId: string): void {
    if (this.owners.size >= MAX_ENTRIES) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(connectionId, { userId: String(userId), applicationId });
  }
}
