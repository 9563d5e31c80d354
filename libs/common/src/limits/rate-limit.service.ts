import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '../redis/redis.module';
import { randomToken } from '../crypto';
import { AppError } from '../errors';
import { canonicalIp, ipInRanges } from './client-ip';
import { takeSlotOrWait } from './sliding-window';

/** 429 `rate_limited` with `Retry-After` (whole seconds, at least 1). */
export function rateLimited(description: string, retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', description).withHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
}

/**
 * Sliding-window counters in Redis: a sorted set of event times per key.
 * Every limit in this file is a window, never a lockout: old events age out.
 */
@Injectable()
export class RateLimitService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** True when the client IP is on RATE_LIMIT_ALLOWLIST (exempt from per-IP counters only). */
  isAllowlisted(ip: string): boolean {
    return ipInRanges(ip, this.config.rateLimitAllowlist);
  }

  /** The counting key of an IP (one spelling for IPv4 and IPv4-mapped IPv6). */
  ipKey(ip: string): string {
    return canonicalIp(ip) ?? 'unknown';
  }

  /**
   * Events in the window and, when it is full, the seconds until the oldest
   * one ages out.
   */
  async count(key: string, windowSeconds: number): Promise<{ count: number; retryAfter: number }> {
    const now = Date.now();
    const results = await this.redis
      .multi()
      .zremrangebyscore(key, 0, now - windowSeconds * 1000)
      .zcard(key)
      .zrange(key, 0, 0, 'WITHSCORES')
      .exec();
    const count = Number(results?.[1]?.[1] ?? 0);
    const oldest = (results?.[2]?.[1] as string[] | undefined) ?? [];
    const oldestAt = oldest.length === 2 ? Number(oldest[1]) : now;
    return { count, retryAfter: (oldestAt + windowSeconds * 1000 - now) / 1000 };
  }

  async record(key: string, windowSeconds: number): Promise<void> {
    const now = Date.now();
    await this.redis
      .multi()
      .zadd(key, now, `${now}:${randomToken(6)}`)
      .expire(key, windowSeconds)
      .exec();
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(key);
  }

  /**
   * Counts one event for `ip` under `name` and throws 429 when the window
   * already holds `limit` events (a refused attempt is not counted).
   * Allowlisted IPs are not counted.
   */
  async consumePerIp(name: string, ip: string, limit: number, windowSeconds: number, description: string): Promise<void> {
    if (this.isAllowlisted(ip)) return;
    const slot = await takeSlotOrWait(this.redis, `limit:${name}:ip:${this.ipKey(ip)}`, limit, windowSeconds);
    if (!slot.taken) throw rateLimited(description, slot.retryAfterSeconds);
  }

  /** At most `perIpHourly.userSignups` end-user sign-ups per client IP and hour (429 beyond). */
  userSignup(ip: string): Promise<void> {
    return this.consumePerIp('signup-user', ip, this.config.perIpHourly.userSignups, 3600, 'Too many sign-ups from your network. Try again later.');
  }

  /** At most `perIpHourly.developerSignups` developer sign-ups per client IP and hour (429 beyond). */
  developerSignup(ip: string): Promise<void> {
    return this.consumePerIp('signup-developer', ip, this.config.perIpHourly.developerSignups, 3600, 'Too many sign-ups from your network. Try again later.');
  }

  /** At most `perIpHourly.resetRequests` password reset requests per client IP and hour (429 beyond). */
  resetRequest(ip: string): Promise<void> {
    return this.consumePerIp('reset-request', ip, this.config.perIpHourly.resetRequests, 3600, 'Too many password reset requests from your network. Try again later.');
  }
}
