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

/** Who presents a code at the token endpoint, checked before the code is spent. */
export interface CodePresentation {
  applicationId: string;
  redirectUri: string;
  /** The S256 transform of the presented code_verifier (computed in Node); absent when none was sent. */
  verifierS256?: string;
}

export type Redemption =
  | { kind: 'ok'; grant: CodeGrant }
  /** A used code presented again by its own client: what the first redemption got must be revoked. */
  | { kind: 'replayed'; grantId: string }
  /** Unknown, expired, or used and presented by another client: nothing to revoke. */
  | { kind: 'invalid' }
  /** Presented by the wrong client, with the wrong redirect_uri or verifier: the code stays usable. */
  | { kind: 'mismatch'; reason: 'client' | 'redirect_uri' | 'verifier_missing' | 'verifier_wrong' | 'verifier_unexpected' };

const MISMATCH = { 3: 'client', 4: 'redirect_uri', 5: 'verifier_missing', 6: 'verifier_wrong', 7: 'verifier_unexpected' } as const;

// One atomic step: the code is checked against the presenting client, its
// redirect_uri and PKCE before it is spent, so a wrong presentation leaves it
// usable by its own client. The first good redeemer gets the grant and leaves
// a "used" marker naming the client; a later presentation by that client is a
// replay (status 2), by any other client just invalid (0).
// ARGV: marker TTL, client, redirect_uri, S256 of the verifier ('' = none sent).
const TAKE_CODE = `
local value = redis.call('GET', KEYS[1])
if value then
  local grant = cjson.decode(value)
  if grant.applicationId ~= ARGV[2] then return {3, ''} end
  if grant.redirectUri ~= ARGV[3] then return {4, ''} end
  local challenge = grant.codeChallenge
  if type(challenge) == 'string' then
    if ARGV[4] == '' then return {5, ''} end
    if ARGV[4] ~= challenge then return {6, ''} end
  elseif ARGV[4] ~= '' then
    return {7, ''}
  end
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], cjson.encode({applicationId = grant.applicationId, grantId = grant.grantId}), 'EX', ARGV[1])
  return {1, value}
end
local used = redis.call('GET', KEYS[2])
if used then
  local marker = cjson.decode(used)
  if marker.applicationId == ARGV[2] then return {2, marker.grantId} end
end
return {0, ''}
`;

// Hash-tagged: a code and its used marker share one Redis Cluster slot, as the script needs.
const codeKey = (hash: string) => `code:{${hash}}`;
const usedKey = (hash: string) => `code-used:{${hash}}`;

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
    await this.redis.set(codeKey(sha256Hex(code)), JSON.stringify(value), 'EX', this.config.codeTtlSeconds);
    return code;
  }

  async redeem(code: string, presented: CodePresentation): Promise<Redemption> {
    if (code.length > 100) return { kind: 'invalid' };
    const hash = sha256Hex(code);
    // The used marker outlives the code by an access token's lifetime, so a
    // late replay can still find and revoke what the first redemption got.
    const markerTtl = this.config.codeTtlSeconds + this.config.accessTokenTtlSeconds;
    const [status, value] = await this.redis.takeCode!(codeKey(hash), usedKey(hash), markerTtl, presented.applicationId, presented.redirectUri, presented.verifierS256 ?? '');
    if (status === 1) return { kind: 'ok', grant: JSON.parse(value) as CodeGrant };
    if (status === 2) return { kind: 'replayed', grantId: value };
    if (status in MISMATCH) return { kind: 'mismatch', reason: MISMATCH[status as keyof typeof MISMATCH] };
    return { kind: 'invalid' };
  }
}
