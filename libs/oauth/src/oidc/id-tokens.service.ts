import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ClaimsService } from './claims.service';
import { atHash, decodeJwt, signJwt, verifyJwtSignature } from './jws';
import { idTokenTtlSeconds, SigningKeysService } from './signing-keys.service';

export interface IdTokenInput {
  connectionId: string;
  clientId: string;
  scopes: string[];
  authTime: number;
  /** RFC 8176 authentication methods of the sign-in; omitted when unknown. */
  amr?: string[];
  nonce?: string;
  /** The access token issued with it (for at_hash). */
  accessToken: string;
}

/** OpenID Connect id_tokens (ES256, `kid` in the header), signed with the active key. */
@Injectable()
export class IdTokensService {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly claims: ClaimsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(input: IdTokenInput): Promise<string> {
    const [key, claims] = await Promise.all([this.keys.activeKey(), this.claims.forConnection(input.connectionId, input.scopes)]);
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
    return signJwt(payload, key);
  }

  /**
   * Checks an id_token we issued (signature with a still-published key, issuer,
   * one audience) and returns its claims. Expiry is NOT checked: logout accepts
   * an expired id_token_hint (OIDC RP-Initiated Logout 1.0, section 2).
   */
  async verifyIgnoringExpiry(token: string): Promise<{ sub: string; aud: string; exp: number } | null> {
    const jwt = decodeJwt(token);
    if (!jwt || typeof jwt.header.kid !== 'string') return null;
    const publicKey = await this.keys.publicKey(jwt.header.kid);
    if (!publicKey || !verifyJwtSignature(jwt, publicKey)) return null;
    const { iss, sub, aud, exp } = jwt.payload;
    if (iss !== this.config.publicUrl || typeof sub !== 'string' || typeof aud !== 'string' || typeof exp !== 'number') return null;
    return { sub, aud, exp };
  }
}
