import { Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { AuthorizePageError, AuthorizeRedirectError, AuthorizeRequestValidator, PUSHABLE_PARAMS, PushedRequestsService } from '@app/oauth';
import { ApiEndpoint } from '../shared/openapi';
import { authenticateClient } from './client-auth';
import { readClientForm } from './client-form';
import { PAR_FORM, PushedAuthorizationResponse } from './oauth.schemas';

/** Codes an authorization request can fail with, answered here as JSON (RFC 9126 2.3). */
const REQUEST_ERRORS: ErrorCode[] = ['invalid_request', 'invalid_scope', 'unsupported_response_type'];

/**
 * Pushed authorization requests (RFC 9126): the client authenticates as at
 * the token endpoint and sends the authorization request's parameters,
 * checked exactly as /oauth/authorize checks them; the browser then carries
 * only client_id and the returned request_uri.
 */
@Controller('oauth')
export class PushedAuthorizationController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly validator: AuthorizeRequestValidator,
    private readonly pushedRequests: PushedRequestsService,
  ) {}

  @ApiEndpoint({
    summary: 'Push an authorization request (RFC 9126); the answer names it for /oauth/authorize',
    auth: 'client',
    form: PAR_FORM,
    response: PushedAuthorizationResponse,
    errors: ['invalid_scope', 'unsupported_response_type'],
  })
  @Post('par')
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  async push(@Req() req: FastifyRequest) {
    const body = readClientForm(req);
    const client = await authenticateClient(req, body, this.applications);
    if (body.request_uri !== undefined) throw new AppError('invalid_request', 'request_uri cannot be pushed (RFC 9126 2.1).');
    const params: Record<string, string> = { client_id: client.clientId };
    for (const name of PUSHABLE_PARAMS) if (name !== 'client_id' && body[name] !== undefined) params[name] = body[name];
    try {
      await this.validator.validate(params, 'pushed');
    } catch (error) {
      if (error instanceof AuthorizePageError) throw new AppError('invalid_request', error.message);
      if (error instanceof AuthorizeRedirectError) {
        const code = REQUEST_ERRORS.find((c) => c === error.error) ?? 'invalid_request';
        throw new AppError(code, error.description);
      }
      throw error;
    }
    const { requestUri, expiresIn } = await this.pushedRequests.push(client.id, params);
    return { request_uri: requestUri, expires_in: expiresIn };
  }
}
