import { Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { TokenAdminService } from '@app/oauth';
import { authenticateClient } from './client-auth';
import { readClientForm } from './client-form';
import { ApiEndpoint } from '../shared/openapi';
import { Introspection, TOKEN_ADMIN_FORM } from './oauth.schemas';

/**
 * Revocation (RFC 7009) and introspection (RFC 7662), authenticated like the
 * token endpoint; a client only ever reaches its own tokens.
 */
@Controller('oauth')
export class TokenAdminController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly admin: TokenAdminService,
  ) {}

  private async read(req: FastifyRequest) {
    const body = readClientForm(req);
    const client = await authenticateClient(req, body, this.applications);
    if (!body.token) throw new AppError('invalid_request', 'token is required.');
    // token_type_hint is optional and only a hint (RFC 7009 2.1): the form of the token decides.
    return { client, token: body.token };
  }

  /** 200 with `{}` whether or not the token existed (RFC 7009 2.2). */
  @ApiEndpoint({ summary: "Revoke one of the client's tokens (RFC 7009)", auth: 'client', form: TOKEN_ADMIN_FORM, response: { type: 'object', additionalProperties: false } })
  @Post('revoke')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  async revoke(@Req() req: FastifyRequest) {
    const { client, token } = await this.read(req);
    await this.admin.revoke(token, client);
    return {};
  }

  @ApiEndpoint({ summary: "Introspect one of the client's tokens (RFC 7662)", auth: 'client', form: TOKEN_ADMIN_FORM, response: Introspection })
  @Post('introspect')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  async introspect(@Req() req: FastifyRequest) {
    const { client, token } = await this.read(req);
    return this.admin.introspect(token, client);
  }
}
