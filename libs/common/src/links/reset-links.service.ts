import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { randomToken, sha256Hex } from '../crypto';
import { takeSlot } from '../limits/sliding-window';

/** Whose password a link resets: an end user or a developer (separate account spaces). */
export type ResetKind = 'user' | 'developer';

/** A reset link works for one hour, once, and only while it is the newest of its account. */
export const RESET_LINK_TTL_SECONDS = 3600;
/** Reset mails per address and hour; beyond that the answer is unchanged and nothing is sent. */
export const RESET_MAILS_PER_ADDRESS_PER_HOUR = 3;

/** What a live link resets. */
export interface ResetTarget {
  subjectId: number;
  email: string;
}

/**
 * Deletes the account's "newest" marker only while it names this link; 1 when
 * spent now. The marker alone decides (one key, one slot on a Cluster): once
 * it is gone or names a newer link, this link is refused, so it is single use
 * even if deleting the link itself afterwards fails.
 */
const CONSUME = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/**
 * Password-reset links in Redis: 32 random bytes in the mail, only their
 * SHA-256 stored (the key), single use (an atomic check-and-delete), one
 * hour, and a newer link voids the older ones (each account keeps the hash
 * of its newest link; a link whose hash is not the newest is refused).
 * Plus the per-address and per-IP request windows.
 */
@Injectable()
export class ResetLinksService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private tokenKey(kind: ResetKind, hash: string) {
    return `pwreset:${kind}:link:{${hash}}`;
  }

  private newestKey(kind: ResetKind, subjectId: number) {
    return `pwreset:${kind}:newest:{${kind}:${subjectId}}`;
  }

  /** Counts a mail to `email` (normalised); false when the address had its 3 this hour. */
  async takeAddressSlot(kind: ResetKind, email: string): Promise<boolean> {
    return takeSlot(this.redis, `pwreset:${kind}:addr:${sha256Hex(email)}`, RESET_MAILS_PER_ADDRESS_PER_HOUR, 3600);
  }

  /** A new link for the account; every older one stops working. Returns the raw token (for the mail only). */
  async issue(kind: ResetKind, target: ResetTarget): Promise<string> {
    const token = randomToken(32);
    const hash = sha256Hex(token);
    // The link, then the marker that makes it usable (different slots): a failure in between leaves an unusable link.
    await this.redis.set(this.tokenKey(kind, hash), JSON.stringify(target), 'EX', RESET_LINK_TTL_SECONDS);
    await this.redis.set(this.newestKey(kind, target.subjectId), hash, 'EX', RESET_LINK_TTL_SECONDS);
    return token;
  }

  /** What a live, newest link resets, without spending it; null when unusable. */
  async peek(kind: ResetKind, token: unknown): Promise<ResetTarget | null> {
    const found = await this.read(kind, token);
    return found?.target ?? null;
  }

  /** Spends a link (once, atomically); null when unknown, used, expired or voided. */
  async consume(kind: ResetKind, token: unknown): Promise<ResetTarget | null> {
    const found = await this.read(kind, token);
    if (!found) return null;
    const spent = await this.redis.eval(CONSUME, 1, this.newestKey(kind, found.target.subjectId), found.hash);
    if (Number(spent) !== 1) return null;
    await this.redis.del(this.tokenKey(kind, found.hash));
    return found.target;
  }

  private async read(kind: ResetKind, token: unknown): Promise<{ hash: string; target: ResetTarget } | null> {
    if (typeof token !== 'string' || token.length < 20 || token.length > 100) return null;
    const hash = sha256Hex(token);
    const raw = await this.redis.get(this.tokenKey(kind, hash));
    if (raw === null) return null;
    const target = JSON.parse(raw) as ResetTarget;
    if ((await this.redis.get(this.newestKey(kind, target.subjectId))) !== hash) return null;
    return { hash, target };
  }
}
