import { Injectable } from '@nestjs/common';
import { AppError } from '@app/common';
import { ApplicationRecord } from '@app/developer';
import { CodeGrant } from '../codes.service';
import { IssuedToken } from '../tokens.service';
import { parseScope } from '../scopes';
import { IdTokensService } from './id-tokens.service';
import { OFFLINE_ACCESS, RefreshTokensService } from '../refresh-tokens.service';

/** Fields the token endpoint adds to the OAuth 2.0 response (access_token, token_type, expires_in, scope stay as they are). */
export interface TokenExtras {
  refresh_token?: string;
  id_token?: string;
}

/**
 * The OpenID Connect and refresh-token side of the token endpoint: extras of a
 * code exchange, and the refresh_token grant.
 */
@Injectable()
export class OidcGrantsService {
  constructor(
    private readonly idTokens: IdTokensService,
    private readonly refreshTokens: RefreshTokensService,
  ) {}

  /** After a successful code exchange: a refresh token with offline_access, an id_token with openid. */
  async afterCodeExchange(grant: CodeGrant, client: ApplicationRecord, scopes: string[], token: IssuedToken): Promise<TokenExtras> {
    const extras: TokenExtras = {};
    if (scopes.includes(OFFLINE_ACCESS)) {
      extras.refresh_token = await this.refreshTokens.startFamily({
        familyId: grant.grantId,
        connectionId: grant.connectionId,
        applicationId: client.id,
        scope: grant.scope,
        authTime: grant.authTime,
        amr: grant.amr,
      });
    }
    if (scopes.includes('openid')) {
      extras.id_token = await this.idTokens.issue({
        connectionId: grant.connectionId,
        clientId: client.clientId,
        scopes,
        authTime: grant.authTime,
        amr: grant.amr,
        nonce: grant.nonce,
        accessToken: token.accessToken,
      });
    }
    return extras;
  }

  /** A code replay revokes the refresh tokens of the first redemption too (GrantsService.revoke; TokensService.revokeGrant already did). */
  revokeGrant(grantId: string): Promise<void> {
    return this.refreshTokens.revokeFamily(grantId);
  }

  /** grant_type=refresh_token: the code exchange's response fields plus the next refresh_token (and an id_token with openid). */
  async refreshGrant(body: Record<string, string>, client: ApplicationRecord) {
    if (!body.refresh_token) throw new AppError('invalid_request', 'refresh_token is required.');
    let requested: string[] | null = null;
    if (body.scope !== undefined) {
      try {
        requested = parseScope(body.scope);
      } catch (error) {
        throw new AppError('invalid_scope', (error as Error).message);
      }
    }
    const r = await this.refreshTokens.refresh(body.refresh_token, client.id, client.clientId, requested);
    const response: Record<string, unknown> = {
      access_token: r.access.accessToken,
      token_type: 'Bearer',
      expires_in: r.access.expiresIn,
      scope: r.access.scope,
      refresh_token: r.refreshToken,
    };
    if (r.scopes.includes('openid')) {
      // No nonce on a refreshed id_token (OIDC Core 12.2); sub, aud, auth_time and amr as before.
      response.id_token = await this.idTokens.issue({
        connectionId: r.connectionId,
        clientId: client.clientId,
        scopes: r.scopes,
        authTime: r.authTime,
        amr: r.amr,
        accessToken: r.access.accessToken,
      });
    }
    return response;
  }
}
