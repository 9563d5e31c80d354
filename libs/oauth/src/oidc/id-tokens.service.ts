import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { compactVerify, errors, SignJWT } from 'jose';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ClaimsService } from './claims.service';
import { DEFAULT_SIGNING_ALG, idTokenTtlSeconds, SIGNING_ALGS, SigningAlg, SigningKeysService } from './signing-keys.service';

export interface IdTokenInput {
  connectionId: string;
  clientId: string;
  /** The application's idTokenSigningAlg (RS256 when absent). */
  alg?: SigningAlg;
  scopes: string[];
  authTime: number;
  /** RFC 8176 authentication methods of the sign-in; omitted when unknown. */
  amr?: string[];
  nonce?: string;
  /** The access token issued with it (for at_hash). */
  accessToken: string;
}

/** What a verified id_token_hint names. */
export interface IdTokenHint {
  /** The connection id. */
  sub: string;
  /** The client id. */
  aud: string;
  /** Expiry (unix seconds): a hint may be expired; logout redirects only on an unexpired one. */
  exp: number;
}

/** OIDC Core 3.1.3.6: base64url of the left half of SHA-256(access_token) (RS256 and ES256 both hash with SHA-256). */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

const HINT_MAX_LENGTH = 8192;

/** OpenID Connect id_tokens (RS256 or ES256 per application, `kid` in the header), signed with the active key. */
@Injectable()
export class IdTokensService {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly claims: ClaimsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(input: IdTokenInput): Promise<string> {
    const alg = input.alg ?? DEFAULT_SIGNING_ALG;
    const [key, claims] = await Promise.all([this.keys.activeKey(alg), this.claims.forConnection(input.connectionId, input.scopes)]);
    if (!claims) throw new Error('connection vanished while issuing an id_token');
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.config.publicUrl,
      aud: input.clientId,
      exp: now + idTokenTtlSeconds(this.config),
      iat: now,
      auth_time: input.authTime,
      ...(input.amr && input.amr.length > 0 ? { amr: input.amr } : {}),
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
      at_hash: atHash(input.accessToken),
      ...claims, // sub (the connection id), global_id, and the scoped claims
    };
    return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', kid: key.kid }).sign(key.privateKey);
  }

  /**
   * Checks an id_token_hint (logout, authorization requests): an id_token we
   * issued (signature with a still-published key, `typ` JWT so an access token
   * does not pass, our issuer, one audience, equal to `clientId` when given)
   * and returns whom it names. Expiry is NOT checked: an expired hint is
   * accepted (OIDC RP-Initiated Logout 1.0, section 2). Null when it fails.
   */
  async verifyHint(token: string, clientId?: string): Promise<IdTokenHint | null> {
    if (typeof token !== 'string' || token.length > HINT_MAX_LENGTH) return null;
    let payload: Record<string, unknown>;
    try {
      const verified = await compactVerify(token, this.keys.verificationKey, { algorithms: [...SIGNING_ALGS] });
      if (verified.protectedHeader.typ !== 'JWT') return null;
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch (error) {
      // A bad hint is null; an outage (the key lookup's database read) stays an error.
      if (error instanceof errors.JOSEError || error instanceof SyntaxError) return null;
      throw error;
    }
    const { iss, sub, aud, exp } = payload ?? {};
    if (iss !== this.config.publicUrl || typeof sub !== 'string' || typeof aud !== 'string' || typeof exp !== 'number') return null;
    if (clientId !== undefined && aud !== clientId) return null;
    return { sub, aud, exp };
  }
}
