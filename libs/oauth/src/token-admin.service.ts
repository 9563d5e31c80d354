import { Inject, Injectable } from '@nestjs/common';
import { AccessChangeSignals } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApplicationRecord } from '@app/developer';
import { TokensService } from './tokens.service';
import { TokensRepository } from './tokens.repository';
import { RefreshTokensService } from './refresh-tokens.service';

/** RFC 7662 response; `{active: false}` says nothing more. */
export type Introspection =
  { active: false } | { active: true; scope: string; client_id: string; sub: string; exp: number; iat: number; token_type: string; iss: string; cnf?: { jkt: string } };

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
    private readonly repository: TokensRepository,
    private readonly tokens: TokensService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly signals: AccessChangeSignals,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Revokes the client's own token; unknown, expired and foreign tokens are silently ignored. */
  async revoke(token: string, client: ApplicationRecord): Promise<void> {
    if (!looksLikeJwt(token)) return this.refreshTokens.revoke(token, client.id);
    const claims = await this.tokens.verifyClaims(token);
    if (!claims || claims.client_id !== client.clientId) return;
    const userId = await this.repository.connectionUser(claims.sub);
    if (userId === null) return;
    await this.signals.around({ users: [userId] }, () => this.repository.revokeClientAccessToken(claims.jti, client.id));
  }

  async introspect(token: string, client: ApplicationRecord): Promise<Introspection> {
    const inactive = { active: false } as const;
    if (!looksLikeJwt(token)) {
      const info = await this.refreshTokens.introspect(token, client.id);
      if (!info) return inactive;
      return {
        active: true,
        scope: info.scope,
        client_id: client.clientId,
        sub: info.connectionId,
        exp: info.exp,
        iat: info.iat,
        token_type: 'refresh_token',
        iss: this.config.publicUrl,
      };
    }
    const claims = await this.tokens.verifyClaims(token);
    if (!claims || claims.client_id !== client.clientId) return inactive;
    const row = await this.tokens.liveRow(claims);
    if (!row || row.application_id !== client.id) return inactive;
    return {
      active: true,
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      // RFC 9449 6.2: a bound token says so, with its key.
      token_type: claims.cnf ? 'DPoP' : 'Bearer',
      iss: this.config.publicUrl,
      ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}),
    };
  }
}
