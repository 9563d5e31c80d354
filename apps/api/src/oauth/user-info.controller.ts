import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ClaimsService, TokensService } from '@app/oauth';
import { invalidToken, requireBearer } from './bearer';

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
    const profile = await requireBearer(req, this.tokens);
    if (!profile.scopes.includes('openid')) {
      throw new AppError('insufficient_scope', 'The access token was not granted the openid scope.').withHeader(
        'WWW-Authenticate',
        'Bearer realm="LoginSign", error="insufficient_scope", scope="openid"',
      );
    }
    const claims = await this.claims.forConnection(profile.connectionId, profile.scopes);
    if (!claims) throw invalidToken();
    return claims;
  }
}
