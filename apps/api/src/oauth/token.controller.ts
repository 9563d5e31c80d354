import { Controller, Get, Header, HttpCode, Post, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError, CountsTokenRequests } from '@app/common';
import { ApplicationRecord, ApplicationsService } from '@app/developer';
import { CodesService, isSubset, OidcGrantsService, parseScope, TokensService, verifyPkce } from '@app/oauth';
import { readClientForm } from './client-form';
import { authenticateClient } from './client-auth';
import { ApiEndpoint } from '../shared/openapi';
import { TOKEN_FORM, TokenResponse } from './oauth.schemas';

/** Grant types that exist in OAuth but that LoginSign clients may not use. */
const NOT_ALLOWED_GRANTS = new Set(['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']);

/** The token endpoint (RFC 6749 3.2, 4.1.3, 5; RFC 7636 4.5-4.6; RFC 9700). */
@Controller('oauth')
export class TokenController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly codes: CodesService,
    private readonly tokens: TokensService,
    private readonly oidc: OidcGrantsService,
  ) {}

  @ApiEndpoint({
    summary: 'Exchange an authorization code or a refresh token for tokens',
    auth: 'client',
    form: TOKEN_FORM,
    response: TokenResponse,
    errors: ['invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'],
  })
  @Post('token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  @CountsTokenRequests()
  async token(@Req() req: FastifyRequest) {
    const body = readClientForm(req);
    const client = await authenticateClient(req, body, this.applications);
    const grantType = body.grant_type;
    if (!grantType) throw new AppError('invalid_request', 'grant_type is required.');
    if (grantType === 'authorization_code') return this.exchangeCode(body, client);
    if (grantType === 'refresh_token') return this.oidc.refreshGrant(body, client);
    if (NOT_ALLOWED_GRANTS.has(grantType)) throw new AppError('unauthorized_client', `This client may not use the ${grantType} grant.`);
    throw new AppError('unsupported_grant_type', 'Only grant_type=authorization_code and refresh_token are supported.');
  }

  @ApiEndpoint({ summary: 'Not allowed: the token endpoint accepts only POST (Allow: POST)', response: false, errors: ['invalid_request'] })
  @Get('token')
  wrongMethod() {
    throw new AppError('invalid_request', 'The token endpoint accepts only POST.').withHeader('allow', 'POST');
  }

  private async exchangeCode(body: Record<string, string>, client: ApplicationRecord) {
    if (!body.code) throw new AppError('invalid_request', 'code is required.');
    if (!body.redirect_uri) throw new AppError('invalid_request', 'redirect_uri is required (the one sent to the authorization endpoint).');
    const requestedScopes = body.scope !== undefined ? this.parseRequestedScope(body.scope) : null;

    const redemption = await this.codes.redeem(body.code);
    if (redemption.kind === 'replayed') {
      // RFC 6749 4.1.2 / RFC 9700 4.5: a reused code revokes what it yielded.
      await this.tokens.revokeGrant(redemption.grantId);
      await this.oidc.revokeGrant(redemption.grantId);
      throw new AppError('invalid_grant', 'The authorization code has already been used.');
    }
    if (redemption.kind === 'invalid') throw new AppError('invalid_grant', 'The authorization code is invalid or has expired.');
    const grant = redemption.grant;
    if (grant.applicationId !== client.id) throw new AppError('invalid_grant', 'The authorization code was issued to another client.');
    if (grant.redirectUri !== body.redirect_uri) throw new AppError('invalid_grant', 'redirect_uri does not match the authorization request.');
    if (grant.codeChallenge) {
      if (!body.code_verifier) throw new AppError('invalid_grant', 'code_verifier is required for this code.');
      if (!verifyPkce(body.code_verifier, grant.codeChallenge)) throw new AppError('invalid_grant', 'code_verifier does not match the code_challenge.');
    } else if (body.code_verifier !== undefined) {
      // A verifier without an earlier challenge is a downgrade attempt (RFC 9700 2.1.1).
      throw new AppError('invalid_grant', 'code_verifier was sent but the authorization request had no code_challenge.');
    }
    const granted = grant.scope.split(' ');
    if (requestedScopes && !isSubset(requestedScopes, granted)) throw new AppError('invalid_scope', 'The requested scope exceeds what the user granted.');

    const scopes = requestedScopes ?? granted;
    const token = await this.tokens.issueForGrant(grant, client.clientId, scopes);
    // OpenID Connect / offline_access add id_token and refresh_token; the OAuth fields above stay as they are.
    const extras = await this.oidc.afterCodeExchange(grant, client, scopes, token);
    return { access_token: token.accessToken, token_type: 'Bearer', expires_in: token.expiresIn, scope: token.scope, ...extras };
  }

  private parseRequestedScope(raw: string): string[] {
    try {
      return parseScope(raw);
    } catch (error) {
      throw new AppError('invalid_scope', (error as Error).message);
    }
  }
}
