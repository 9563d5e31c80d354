import { Injectable } from '@nestjs/common';
import { AppError } from '@app/common';
import { ApplicationRecord, isPublicClient } from '@app/developer';
import { CodeGrant, CodesService, Redemption } from '../codes.service';
import { isValidVerifier, s256 } from '../pkce';
import { isSubset } from '../scopes';
import { IssuedToken, TokensService } from '../tokens.service';
import { OFFLINE_ACCESS, RefreshTokensService } from '../refresh-tokens.service';
import { IdTokensService } from '../oidc/id-tokens.service';
import { GrantContext, GrantHandler, TokenResponse } from './grant-handler';
import { GrantsService } from './grants.service';
import { requestedScope } from './requested-scope';

/** Not base64url, so it matches no S256 challenge: a malformed verifier is a wrong one. */
const NEVER_A_CHALLENGE = '!';

const MISMATCH_MESSAGES: Record<Extract<Redemption, { kind: 'mismatch' }>['reason'], string> = {
  client: 'The authorization code was issued to another client.',
  redirect_uri: 'redirect_uri does not match the authorization request.',
  verifier_missing: 'code_verifier is required for this code.',
  verifier_wrong: 'code_verifier does not match the code_challenge.',
  // A verifier without an earlier challenge is a downgrade attempt (RFC 9700 2.1.1).
  verifier_unexpected: 'code_verifier was sent but the authorization request had no code_challenge.',
};

/** grant_type=authorization_code (RFC 6749 4.1.3; RFC 7636 4.5-4.6; RFC 9700; OIDC Core 3.1.3). */
@Injectable()
export class AuthorizationCodeGrant implements GrantHandler {
  readonly grantType = 'authorization_code';

  constructor(
    private readonly codes: CodesService,
    private readonly tokens: TokensService,
    private readonly grants: GrantsService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly idTokens: IdTokensService,
  ) {}

  async handle(body: Record<string, string>, client: ApplicationRecord, context: GrantContext): Promise<TokenResponse> {
    if (!body.code) throw new AppError('invalid_request', 'code is required.');
    if (!body.redirect_uri) throw new AppError('invalid_request', 'redirect_uri is required (the one sent to the authorization endpoint).');
    const requestedScopes = requestedScope(body);

    const redemption = await this.codes.redeem(body.code, {
      applicationId: client.id,
      redirectUri: body.redirect_uri,
      verifierS256: body.code_verifier === undefined ? undefined : isValidVerifier(body.code_verifier) ? s256(body.code_verifier) : NEVER_A_CHALLENGE,
    });
    if (redemption.kind === 'replayed') {
      // RFC 6749 4.1.2 / RFC 9700 4.5: a code reused by its own client revokes what it yielded.
      await this.grants.revoke({ grantId: redemption.grantId });
      throw new AppError('invalid_grant', 'The authorization code has already been used.');
    }
    if (redemption.kind === 'invalid') throw new AppError('invalid_grant', 'The authorization code is invalid or has expired.');
    if (redemption.kind === 'mismatch') throw new AppError('invalid_grant', MISMATCH_MESSAGES[redemption.reason]);
    const grant = redemption.grant;
    const granted = grant.scope.split(' ');
    if (requestedScopes && !isSubset(requestedScopes, granted)) throw new AppError('invalid_scope', 'The requested scope exceeds what the user granted.');

    const scopes = requestedScopes ?? granted;
    const token = await this.tokens.issueForGrant(grant, client.clientId, scopes, context.dpopJkt);
    // OpenID Connect / offline_access add id_token and refresh_token; the OAuth fields stay as they are.
    const extras = await this.extras(grant, client, scopes, token, context);
    return { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope, ...extras };
  }

  /** A refresh token with offline_access, an id_token with openid. */
  private async extras(
    grant: CodeGrant,
    client: ApplicationRecord,
    scopes: string[],
    token: IssuedToken,
    context: GrantContext,
  ): Promise<Pick<TokenResponse, 'refresh_token' | 'id_token'>> {
    const extras: Pick<TokenResponse, 'refresh_token' | 'id_token'> = {};
    if (scopes.includes(OFFLINE_ACCESS)) {
      extras.refresh_token = await this.refreshTokens.startFamily({
        familyId: grant.grantId,
        connectionId: grant.connectionId,
        applicationId: client.id,
        scope: grant.scope,
        authTime: grant.authTime,
        amr: grant.amr,
        // RFC 9449 5: a public client's refresh tokens are bound to its DPoP key.
        dpopJkt: isPublicClient(client.type) ? context.dpopJkt : null,
      });
    }
    if (scopes.includes('openid')) {
      extras.id_token = await this.idTokens.issue({
        connectionId: grant.connectionId,
        clientId: client.clientId,
        alg: client.idTokenSigningAlg,
        scopes,
        authTime: grant.authTime,
        amr: grant.amr,
        nonce: grant.nonce,
        accessToken: token.accessToken,
      });
    }
    return extras;
  }
}
