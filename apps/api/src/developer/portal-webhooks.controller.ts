import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { WebhookDeliveriesService } from '@app/webhooks';
import { FormBody } from '../shared/body';
import { appPath } from './portal.view';
import { deliveryPage, webhooksPage } from './portal-webhooks.view';
import { doneNotice, Form, renderPage, seeOther } from '../shared/pages';
import { PageSession } from '../shared/page-session.guard';
import { PortalContextService } from './portal-context.service';

const PAGE_SIZE = 25;

const MESSAGES: Record<string, string> = {
  ping: 'Test ping queued: it appears in the log below.',
  redelivered: 'Queued for redelivery.',
};

const message = (key: unknown) => doneNotice(MESSAGES, key);

/**
 * Developer Portal pages for an application's webhooks: endpoint state,
 * deliveries log, one delivery with its attempts, redeliver and test ping,
 * all through WebhookDeliveriesService (as the JSON API).
 */
@Controller('developer/apps/:appId/webhooks')
@PageSession('developer')
export class PortalWebhooksController {
  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    private readonly sessions: PortalContextService,
  ) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @Query() query: Record<string, unknown>) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    const cursor = typeof query.cursor === 'string' && query.cursor ? query.cursor : undefined;
    const [endpoint, data] = await Promise.all([this.deliveries.endpoint(app.id), this.deliveries.list(app.id, PAGE_SIZE, cursor)]);
    return renderPage(reply, 200, webhooksPage(developer, csrf, app, endpoint, data, cursor, message(query.done)));
  }

  @Post('test')
  async ping(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @FormBody() form: Form) {
    const { app } = await this.sessions.appContext(request, reply, appId, form);
    await this.deliveries.ping(app.id);
    return seeOther(reply, appPath(app.id, '/webhooks?done=ping'));
  }

  @Get(':deliveryId')
  async detail(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('deliveryId') deliveryId: string,
    @Query('done') done: unknown,
  ) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    const delivery = await this.deliveries.get(app.id, deliveryId);
    return renderPage(reply, 200, deliveryPage(developer, csrf, app, delivery, message(done)));
  }

  @Post(':deliveryId/redeliver')
  async redeliver(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('deliveryId') deliveryId: string,
    @FormBody() form: Form,
  ) {
    const { app } = await this.sessions.appContext(request, reply, appId, form);
    await this.deliveries.redeliver(app.id, deliveryId);
    return seeOther(reply, appPath(app.id, `/webhooks/${encodeURIComponent(deliveryId)}?done=redelivered`));
  }
}
