import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { sha256Hex } from '../crypto';
import { RateLimitService, rateLimited } from '../limits/rate-limit.service';

/**
 * Failed logins in sliding windows, per (account, client IP) and per client
 * IP. Counting the account per IP means nobody can lock an account at will:
 * failures from one address never refuse the right password from another.
 * The per-IP window caps a spray across accounts (RATE_LIMIT_ALLOWLIST
 * exempts an IP from it, never from the per-(account, IP) window). A success
 * clears that (account, IP) window.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    private readonly limits: RateLimitService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private keys(scope: string, account: string, ip: string) {
    const client = this.limits.ipKey(ip);
    return { accountIp: `login-fail:${scope}:acct:${sha256Hex(account)}:ip:${client}`, ip: `login-fail:${scope}:ip:${client}` };
  }

  /** Throws 429 (with Retry-After) when either window is full. */
  async check(scope: string, account: string, ip: string): Promise<void> {
    const { windowSeconds, maxFailuresPerAccount, maxFailuresPerIp } = this.config.login;
    const keys = this.keys(scope, account, ip);
    const pair = await this.limits.count(keys.accountIp, windowSeconds);
    if (pair.count >= maxFailuresPerAccount) throw this.refused(pair.retryAfter);
    if (this.limits.isAllowlisted(ip)) return;
    const perIp = await this.limits.count(keys.ip, windowSeconds);
    if (perIp.count >= maxFailuresPerIp) throw this.refused(perIp.retryAfter);
  }

  async recordFailure(scope: string, account: string, ip: string): Promise<void> {
    const keys = this.keys(scope, account, ip);
    const ttl = this.config.login.windowSeconds;
    await this.limits.record(keys.accountIp, ttl);
    if (!this.limits.isAllowlisted(ip)) await this.limits.record(keys.ip, ttl);
  }

  async recordSuccess(scope: string, account: string, ip: string): Promise<void> {
    await this.limits.clear(this.keys(scope, account, ip).accountIp);
  }

  private refused(retryAfter: number) {
    return rateLimited('Too many failed sign-in attempts. Try again in a few minutes.', retryAfter);
  }
}
