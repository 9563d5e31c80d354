import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { randomToken, REDIS, sha256Hex } from '@app/common';

/** What an authorization code stands for. */
export interface CodeGrant {
  /** Ties the code to the tokens it yields, so a replay can revoke them. */
  grantId: string;
  applicationId: string;
  connectionId: string;
  redirectUri: string;
  scope: string;
  codeChallenge?: string;
  nonce?: string;
  authTime: number;
  /** How the user signed in (RFC 8176), from the session. */
  amr?: string[];
}

export type Redemption = { kind: 'ok'; grant: CodeGrant } | { kind: 'replayed'; grantId: string } | { kind: 'invalid' };

// Atomic take: the first redeemer gets the grant and leaves a "used" marker;
// later ones see only the marker (a replay), however close together they run.
const TAKE_CODE = `
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], cjson.decode(value).grantId, 'EX', ARGV[1])
  return {1, value}
end
local used = redis.call('GET', KEYS[2])
if used then return {2, used} end
return {0, ''}
`;

/**
 * Authorization codes live in Redis: short-lived (10 min at most), single use
 * through one atomic Lua step, and stored under the SHA-256 of the code.
 * If Redis loses them (restart), an in-flight sign-in must be started again;
 * nothing else depends on them.
 */
@Injectable()
export class CodesService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis & { takeCode?: (...args: unknown[]) => Promise<[number, string]> },
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    redis.defineCommand('takeCode', { numberOfKeys: 2, lua: TAKE_CODE });
  }

  async issue(grant: Omit<CodeGrant, 'grantId'>): Promise<string> {
    const code = randomToken(32);
    const value: CodeGrant = { grantId: randomToken(16), ...grant };
    await this.redis.set(`code:{${sha256Hex(code)}}`, JSON.stringify(value), 'EX', this.config.codeTtlSeconds);
    return code;
  }

  async redeem(code: string): Promise<Redemption> {
    if (code.length > 100) return { kind: 'invalid' };
    const hash = sha256Hex(code);
    // The used marker outlives the code by an access token's lifetime, so a
    // late replay can still find and revoke what the first redemption got.
    const markerTtl = this.config.codeTtlSeconds + this.config.accessTokenTtlSeconds;
    const [status, value] = await this.redis.takeCode!(`code:{${hash}}`, `code-used:{${hash}}`, markerTtl);
    if (status === 1) return { kind: 'ok', grant: JSON.parse(value) as CodeGrant };
    if (status === 2) return { kind: 'replayed', grantId: value };
    return { kind: 'invalid' };
  }
}
