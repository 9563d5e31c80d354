import { Controller, Get, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { TokensService } from '@app/oauth';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** `GET /api/user`: the profile of the bearer token's connection (RFC 6750). */
@Controller('api')
export class UserController {
  constructor(private readonly tokens: TokensService) {}

  @Get('user')
  async currentUser(@Req() req: FastifyRequest) {
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
    return {
      id: profile.connectionId,
      globalId: profile.globalId,
      name: profile.scopes.includes('profile') ? profile.name : null,
      email: profile.scopes.includes('email') ? profile.email : null,
      image: profile.scopes.includes('profile') ? profile.image : null,
    };
  }
}
