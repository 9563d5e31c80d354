import { Controller, Get, Header, HttpCode, Post, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ClaimsService, DpopService, TokensService } from '@app/oauth';
import { requireAccessToken } from './bearer';
import { ApiEndpoint } from '../shared/openapi';
import { UserInfo } from './oauth.schemas';

/** OIDC Core 5.3: the standard claims of the bearer token's connection, per its scopes. */
@Controller('oauth')
export class UserInfoController {
  constructor(
    private readonly tokens: TokensService,
    private readonly claims: ClaimsService,
    private readonly dpop: DpopService,
  ) {}

  @ApiEndpoint({ summary: 'OpenID Connect UserInfo', auth: 'bearer', response: UserInfo, errors: ['insufficient_scope'] })
  @Get('userinfo')
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  get(@Req() req: FastifyRequest) {
    return this.userinfo(req);
  }

  @ApiEndpoint({ summary: 'OpenID Connect UserInfo', auth: 'bearer', response: UserInfo, errors: ['insufficient_scope'] })
  @Post('userinfo')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  post(@Req() req: FastifyRequest) {
    return this.userinfo(req);
  }

  private async userinfo(req: FastifyRequest) {
    const profile = await requireAccessToken(req, this.tokens, this.dpop);
    if (!profile.scopes.includes('openid')) {
      throw new AppError('insufficient_scope', 'The access token was not granted the openid scope.').withHeader(
        'WWW-Authenticate',
        'Bearer realm="LoginSign", error="insufficient_scope", scope="openid"',
      );
    }
    return this.claims.forToken(profile);
  }
}
