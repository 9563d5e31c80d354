import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { RelayLogService } from '@app/relay';
import { renderPage } from '../shared/pages';
import { PageSession } from '../shared/page-session.guard';
import { PortalContextService } from './portal-context.service';
import { relayPage } from './portal-relay.view';

/** Developer Portal: an application's sender domains (TXT records to publish) and its relay log. */
@Controller('developer/apps/:appId/relay')
@PageSession('developer')
export class PortalRelayController {
  constructor(
    private readonly relayLog: RelayLogService,
    private readonly sessions: PortalContextService,
  ) {}

  @Get()
  async show(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    return renderPage(reply, 200, relayPage(developer, csrf, app, await this.relayLog.recent(app.id)));
  }
}
