import { Controller, Get, Header, HttpCode, Post, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError, CountsTokenRequests } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { DpopService, TokenGrants } from '@app/oauth';
import { readClientForm } from './client-form';
import { authenticateClient } from './client-auth';
import { ApiEndpoint } from '../shared/openapi';
import { TOKEN_FORM, TokenResponse } from './oauth.schemas';

/** The token endpoint (RFC 6749 3.2, 5): authenticates the client, then the grant type's handler answers. */
@Controller('oauth')
export class TokenController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly grants: TokenGrants,
    private readonly dpop: DpopService,
  ) {}

  @ApiEndpoint({
    summary: 'Exchange an authorization code or a refresh token for tokens',
    auth: 'client',
    form: TOKEN_FORM,
    response: TokenResponse,
    errors: ['invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_dpop_proof'],
  })
  @Post('token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  @CountsTokenRequests()
  async token(@Req() req: FastifyRequest) {
    const body = readClientForm(req);
    const client = await authenticateClient(req, body, this.applications);
    const handler = this.grants.handler(body.grant_type);
    // RFC 9449 5: a valid proof binds the tokens to its key; without the header they are Bearer tokens.
    const dpopJkt = req.headers.dpop === undefined ? null : await this.dpop.verify(req.headers.dpop, { method: 'POST', path: '/oauth/token' });
    return handler.handle(body, client, { dpopJkt });
  }

  @ApiEndpoint({ summary: 'Not allowed: the token endpoint accepts only POST (Allow: POST)', response: false, errors: ['invalid_request'] })
  @Get('token')
  wrongMethod() {
    throw new AppError('invalid_request', 'The token endpoint accepts only POST.').withHeader('allow', 'POST');
  }
}
