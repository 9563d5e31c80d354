import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeysService } from '@app/developer';
import { FormBody } from '../shared/body';
import { doneNotice, field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { PageSession } from '../shared/page-session.guard';
import { presentApiKey } from './developer-api-keys.controller';
import { apiKeysPage } from './portal-api-keys.view';
import { PortalContextService } from './portal-context.service';

const MESSAGES: Record<string, string> = { revoked: 'Key revoked: requests with it now get 401.' };
const LABELS = { name: 'Name', expiresInDays: 'Expires after' };

/** Developer Portal page of the developer's API keys (ApiKeysService, as the JSON API). */
@Controller('developer/api-keys')
@PageSession('developer')
export class PortalApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly sessions: PortalContextService,
  ) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    const keys = (await this.keys.list(developer.id)).map(presentApiKey);
    return renderPage(reply, 200, apiKeysPage(developer, csrf, keys, { message: doneNotice(MESSAGES, done) }));
  }

  /** Renders the page with the new key (not a redirect: the key must not travel in a URL; pages are never cached). */
  @Post()
  async create(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const { developer, csrf } = await this.sessions.context(request, reply, form);
    const name = field(form, 'name');
    const days = field(form, 'expiresInDays').trim();
    try {
      const expiresInDays = days === '' ? undefined : /^\d{1,6}$/.test(days) ? Number(days) : NaN;
      const { apiKey, key } = await this.keys.create(developer.id, { name, expiresInDays });
      const keys = (await this.keys.list(developer.id)).map(presentApiKey);
      return renderPage(reply, 201, apiKeysPage(developer, csrf, keys, { created: { name: apiKey.name, key } }));
    } catch (error) {
      const e = formError(error, reply, ['invalid_request']);
      const keys = (await this.keys.list(developer.id)).map(presentApiKey);
      return renderPage(reply, e.status, apiKeysPage(developer, csrf, keys, { name, expiresInDays: days, error: formMessage(e, LABELS) }));
    }
  }

  @Post(':keyId/revoke')
  async revoke(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('keyId') keyId: string, @FormBody() form: Form) {
    const { developer } = await this.sessions.context(request, reply, form);
    await this.keys.revoke(developer.id, keyId);
    return seeOther(reply, '/developer/api-keys?done=revoked');
  }
}
