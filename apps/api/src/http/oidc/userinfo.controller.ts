import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ClaimsService, TokensService } from '@app/oauth';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** OIDC Core 5.3: the standard claims of the bearer token's connection, per its scopes. */
@Controller('oauth')
export class UserInfoController {
  constructor(
    private readonly tokens: TokensService,
    private readonly claims: ClaimsService,
  ) {}

  @Get('userinfo')
  get(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.userinfo(req, reply);
  }

  @Post('userinfo')
  @HttpCode(200)
  post(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.userinfo(req, reply);
  }

  private async userinfo(req: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const header = req.headers.authorization;
    if (!header) {
      throw new AppError('invalid_token', 'An access token is required (Authorization: Bearer ...).').withHeader('WWW-Authenticate', 'Bearer realm="LoginSign"');
    }
    const match = BEARER.exec(header);
    const profile = match ? await this.tokens.authenticate(match[1]) : null;
    if (!profile) {
      throw new AppError('invalid_token', 'The access token is invalid, expired or revoked.').withHeader(
        'WWW-Authenticate',
        'Bearer realm="LoginSign", error="invalid_token", error_description="The access token is invalid, expired or revoked"',
      );
    }
    if (!profile.scopes.includes('openid')) {
      throw new AppError('insufficient_scope', 'The access token was not granted the openid scope.').withHeader(
        'WWW-Authenticate',
        'Bearer realm="LoginSign", error="insufficient_scope", scope="openid"',
      );
    }
    const claims = await this.claims.forConnection(profile.connectionId, profile.scopes);
    if (!claims) throw new AppError('invalid_token', 'The access token is invalid, expired or revoked.').withHeader('WWW-Authenticate', 'Bearer realm="LoginSign", error="invalid_token"');
    return claims;
  }
}
