import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { TokenAdminService } from '@app/oauth';
import { authenticateClient } from './client-auth';
import { readClientForm } from './client-form';

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

  private async read(req: FastifyRequest, reply: FastifyReply) {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const body = readClientForm(req);
    const client = await authenticateClient(req, body, this.applications);
    if (!body.token) throw new AppError('invalid_request', 'token is required.');
    // token_type_hint is optional and only a hint (RFC 7009 2.1): the form of the token decides.
    return { client, token: body.token };
  }

  /** 200 with an empty body whether or not the token existed (RFC 7009 2.2). */
  @Post('revoke')
  @HttpCode(200)
  async revoke(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { client, token } = await this.read(req, reply);
    await this.admin.revoke(token, client);
    return '';
  }

  @Post('introspect')
  @HttpCode(200)
  async introspect(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { client, token } = await this.read(req, reply);
    return this.admin.introspect(token, client);
  }
}
