import { Controller, Get, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { DpopService, TokensService } from '@app/oauth';
import { requireAccessToken } from './bearer';
import { ApiEndpoint } from '../shared/openapi';
import { CurrentUser } from './oauth.schemas';

/** `GET /api/user`: the profile of the access token's connection (RFC 6750, or RFC 9449 DPoP). */
@Controller('api')
export class UserController {
  constructor(
    private readonly tokens: TokensService,
    private readonly dpop: DpopService,
  ) {}

  @ApiEndpoint({ summary: "The profile of the access token's connection", auth: 'bearer', response: CurrentUser })
  @Get('user')
  async currentUser(@Req() req: FastifyRequest) {
    const profile = await requireAccessToken(req, this.tokens, this.dpop);
    return {
      id: profile.connectionId,
      globalId: profile.globalId,
      name: profile.scopes.includes('profile') ? profile.name : null,
      email: profile.scopes.includes('email') ? profile.email : null,
      image: profile.scopes.includes('profile') ? profile.image : null,
    };
  }
}
