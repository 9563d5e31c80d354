import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { ByteBudgetLru, randomToken, REDIS, safeEqual } from '@app/common';
import type { ApplicationRecord } from './applications.service';

/**
 * A random version, replaced with every committed change of the client's
 * secret or settings, and on deletion. Random, never a counter: a key lost in
 * Redis (restart, eviction) gets a new version, so no old entry matches again.
 */
const versionKey = (clientId: string) => `client-version:${clientId}`;

/** Entries are ~1-2 KB: a few thousand clients per process. */
const BUDGET_BYTES = 4 * 1024 * 1024;

interface Entry {
  /** SHA-256 of the secret that authenticated: only that secret is answered from here; null when none did yet. */
  secretHash: Buffer | null;
  /** The version signal read before the row was: a later change makes the entry miss. */
  version: string | null;
  record: ApplicationRecord;
}

/**
 * Per-process cache of applications by client_id and of successful client
 * authentications, so an authorization or token request costs one Redis GET
 * (the version signal) instead of a MySQL read. Failures are never cached. A change (secret rotation, settings, deletion) drops the entry
 * here at once and moves the Redis version, so every other process misses on
 * its very next request; there is no time-based staleness.
 */
@Injectable()
export class ClientAuthCache {
  private readonly entries = new ByteBudgetLru<string, Entry>(BUDGET_BYTES, (clientId, e) => 256 + 2 * (clientId.length + JSON.stringify(e.record).length));

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Read before the application row, so a change committed after that read is seen by the next request. */
  async version(clientId: string): Promise<string | null> {
    const key = versionKey(clientId);
    const seen = await this.redis.get(key);
    if (seen !== null) return seen;
    // Created only if still missing: a change in between made its own version.
    const fresh = randomToken(16);
    return (await this.redis.set(key, fresh, 'NX')) === 'OK' ? fresh : this.redis.get(key);
  }

  /** The application, if this secret authenticated it under this version. */
  lookup(clientId: string, secretHash: Buffer, version: string | null): ApplicationRecord | null {
    const entry = this.entries.get(clientId);
    return entry && entry.version === version && entry.secretHash !== null && safeEqual(entry.secretHash, secretHash) ? entry.record : null;
  }

  /** The application as read under this version (no authentication: /oauth/authorize). */
  record(clientId: string, version: string | null): ApplicationRecord | null {
    const entry = this.entries.get(clientId);
    return entry && entry.version === version ? entry.record : null;
  }

  /** `secretHash` null: the row was read without authentication; a secret that authenticated under the same version stays known. */
  remember(clientId: string, secretHash: Buffer | null, version: string | null, record: ApplicationRecord): void {
    const known = this.entries.get(clientId);
    const keptHash = secretHash ?? (known && known.version === version ? known.secretHash : null);
    this.entries.set(clientId, { secretHash: keptHash, version, record });
  }

  /** After a committed change of the client: forgotten here now, and on the other processes' next request. */
  async changed(clientId: string): Promise<void> {
    this.entries.delete(clientId);
    await this.redis.set(versionKey(clientId), randomToken(16));
  }
}
