import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApplicationRecord } from '@app/developer';
import { TokensService } from '../tokens.service';
import { RefreshTokensService } from './refresh-tokens.service';

/** RFC 7662 response; `{active: false}` says nothing more. */
export type Introspection =
  | { active: false }
  | { active: true; scope: string; client_id: string; sub: string; exp: number; iat: number; token_type: string; iss: string };

/** Access tokens are JWTs (three dot-separated parts); refresh tokens are opaque base64url. */
const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * Revocation (RFC 7009) and introspection (RFC 7662) for an authenticated
 * client, limited to its own tokens. The kind of token is recognised from its
 * form, so a wrong or missing token_type_hint changes nothing.
 */
@Injectable()
export class TokenAdminService {
  constructor(
    private readonly db: DataSource,
    private readonly tokens: TokensService,
    private readonly refreshTokens: RefreshTokensService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Revokes the client's own token; unknown, expired and foreign tokens are silently ignored. */
  async revoke(token: string, client: ApplicationRecord): Promise<void> {
    if (!looksLikeJwt(token)) return this.refreshTokens.revoke(token, client.id);
    const claims = await this.tokens.verifyClaims(token);
    if (!claims || claims.client_id !== client.clientId) return;
    await this.db.query(
      `UPDATE access_tokens t JOIN connections c ON c.id = t.connection_id SET t.revoked = 1 WHERE t.id = ? AND c.application_id = ?`,
      [claims.jti, client.id],
    );
  }

  async introspect(token: string, client: ApplicationRecord): Promise<Introspection> {
    const inactive = { active: false } as const;
    if (!looksLikeJwt(token)) {
      const info = await this.refreshTokens.introspect(token, client.id);
      if (!info) return inactive;
      return { active: true, scope: info.scope, client_id: client.clientId, sub: info.connectionId, exp: info.exp, iat: info.iat, token_type: 'refresh_token', iss: this.config.publicUrl };
    }
    const claims = await this.tokens.verifyClaims(token);
    if (!claims || claims.client_id !== client.clientId) return inactive;
    const [row] = await this.db.query<{ id: string }[]>(
      `SELECT t.id FROM access_tokens t JOIN connections c ON c.id = t.connection_id
       WHERE t.id = ? AND t.connection_id = ? AND c.application_id = ? AND t.revoked = 0 AND t.expires_at > UTC_TIMESTAMP(3) AND c.blocked = 0 AND c.active = 1`,
      [claims.jti, claims.sub, client.id],
    );
    if (!row) return inactive;
    return { active: true, scope: claims.scope, client_id: claims.client_id, sub: claims.sub, exp: claims.exp!, iat: claims.iat!, token_type: 'Bearer', iss: this.config.publicUrl };
  }
}
