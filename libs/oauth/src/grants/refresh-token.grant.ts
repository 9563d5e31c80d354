import { Injectable } from '@nestjs/common';
import { AppError } from '@app/common';
import { ApplicationRecord } from '@app/developer';
import { RefreshTokensService } from '../refresh-tokens.service';
import { IdTokensService } from '../oidc/id-tokens.service';
import { GrantContext, GrantHandler, TokenResponse } from './grant-handler';
import { requestedScope } from './requested-scope';

/** grant_type=refresh_token (RFC 6749 6; OIDC Core 12): the next token pair, and an id_token with openid. */
@Injectable()
export class RefreshTokenGrant implements GrantHandler {
  readonly grantType = 'refresh_token';

  constructor(
    private readonly refreshTokens: RefreshTokensService,
    private readonly idTokens: IdTokensService,
  ) {}

  async handle(body: Record<string, string>, client: ApplicationRecord, context: GrantContext): Promise<TokenResponse> {
    if (!body.refresh_token) throw new AppError('invalid_request', 'refresh_token is required.');
    const requested = requestedScope(body);
    const r = await this.refreshTokens.refresh(body.refresh_token, client.id, client.clientId, requested, context.dpopJkt);
    const response: TokenResponse = {
      access_token: r.access.accessToken,
      token_type: r.access.tokenType,
      expires_in: r.access.expiresIn,
      scope: r.access.scope,
      refresh_token: r.refreshToken,
    };
    if (r.scopes.includes('openid')) {
      // No nonce on a refreshed id_token (OIDC Core 12.2); sub, aud, auth_time and amr as before.
      response.id_token = await this.idTokens.issue({
        connectionId: r.connectionId,
        clientId: client.clientId,
        alg: client.idTokenSigningAlg,
        scopes: r.scopes,
        authTime: r.authTime,
        amr: r.amr,
        accessToken: r.access.accessToken,
      });
    }
    return response;
  }
}
