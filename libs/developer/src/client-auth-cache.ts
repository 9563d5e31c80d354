import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { ByteBudgetLru, REDIS, safeEqual } from '@app/common';
import type { ApplicationRecord } from './applications.service';

/** Moves (INCR) with every committed change of the client's secret or settings, and on deletion. */
const versionKey = (clientId: string) => `client-version:${clientId}`;

/** Entries are ~1-2 KB: a few thousand clients per process. */
const BUDGET_BYTES = 4 * 1024 * 1024;

interface Entry {
  /** SHA-256 of the secret that authenticated: only that secret is answered from here. */
  secretHash: Buffer;
  /** The version signal read before the row was: a later change makes the entry miss. */
  version: string | null;
  record: ApplicationRecord;
}

/**
 * Per-process cache of successful client authentications, so a token request
 * costs one Redis GET (the version signal) instead of a MySQL read. Failures are
 * never cached. A change (secret rotation, settings, deletion) drops the entry
 * here at once and moves the Redis version, so every other process misses on
 * its very next request; there is no time-based staleness.
 */
@Injectable()
export class ClientAuthCache {
  private readonly entries = new ByteBudgetLru<string, Entry>(BUDGET_BYTES, (clientId, e) => 256 + 2 * (clientId.length + JSON.stringify(e.record).length));

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Read before the application row, so a change committed after that read is seen by the next request. */
  version(clientId: string): Promise<string | null> {
    return this.redis.get(versionKey(clientId));
  }

  lookup(clientId: string, secretHash: Buffer, version: string | null): ApplicationRecord | null {
    const entry = this.entries.get(clientId);
    return entry && entry.version === version && safeEqual(entry.secretHash, secretHash) ? entry.record : null;
  }

  remember(clientId: string, secretHash: Buffer, version: string | null, record: ApplicationRecord): void {
    this.entries.set(clientId, { secretHash, version, record });
  }

  /** After a committed change of the client: forgotten here now, and on the other processes' next request. */
  async changed(clientId: string): Promise<void> {
    this.entries.delete(clientId);
    await this.redis.incr(versionKey(clientId));
  }
}
