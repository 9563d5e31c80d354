import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '../redis/redis.module';
import { randomToken, sha256Hex } from '../crypto';
import { AppError } from '../errors';

/**
 * Sliding-window counters of failed logins in Redis, per account and per IP.
 * A window, not a lockout: old failures age out, so an attacker can slow an
 * account's logins down for a while but never lock it for good; a success
 * clears the account's window.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private keys(scope: string, email: string, ip: string) {
    return { account: `login-fail:${scope}:acct:${sha256Hex(email)}`, ip: `login-fail:${scope}:ip:${ip}` };
  }

  /** Throws 429 when either window is full. */
  async check(scope: string, email: string, ip: string): Promise<void> {
    const { windowSeconds, maxFailuresPerAccount, maxFailuresPerIp } = this.config.login;
    const keys = this.keys(scope, email, ip);
    const since = Date.now() - windowSeconds * 1000;
    const results = await this.redis.multi().zremrangebyscore(keys.account, 0, since).zcard(keys.account).zremrangebyscore(keys.ip, 0, since).zcard(keys.ip).exec();
    const accountFailures = Number(results?.[1]?.[1] ?? 0);
    const ipFailures = Number(results?.[3]?.[1] ?? 0);
    if (accountFailures >= maxFailuresPerAccount || ipFailures >= maxFailuresPerIp) {
      throw new AppError('rate_limited', 'Too many failed sign-in attempts. Try again in a few minutes.').withHeader('Retry-After', String(Math.min(windowSeconds, 60)));
    }
  }

  async recordFailure(scope: string, email: string, ip: string): Promise<void> {
    const keys = this.keys(scope, email, ip);
    const now = Date.now();
    const ttl = this.config.login.windowSeconds;
    await this.redis
      .multi()
      .zadd(keys.account, now, `${now}:${randomToken(6)}`)
      .expire(keys.account, ttl)
      .zadd(keys.ip, now, `${now}:${randomToken(6)}`)
      .expire(keys.ip, ttl)
      .exec();
  }

  async recordSuccess(scope: string, email: string, ip: string): Promise<void> {
    await this.redis.del(this.keys(scope, email, ip).account);
  }
}
