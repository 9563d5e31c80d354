import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { AppError, Session } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { WebhookDeliveriesService } from '@app/webhooks';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session.guard';
import { ApiEndpoint } from '../shared/openapi';
import { QueuedPing, WebhookDelivery, WebhookDeliveryDetail, WebhookDeliveryList, WebhookEndpoint } from './developer.schemas';

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 100) throw new AppError('invalid_request', 'limit must be a whole number from 1 to 100.');
  return limit;
}

/** Developer Portal: the webhook endpoint's state, the deliveries log, redeliver, test ping. */
@Controller('api/developer/applications/:appId/webhooks')
@UseGuards(DeveloperSessionGuard)
export class DeveloperWebhooksController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  /** 404 unless the session's developer owns the application. */
  private async owned(session: Session, appId: string): Promise<string> {
    return (await this.apps.getOwned(session.subjectId, appId)).id;
  }

  @ApiEndpoint({ summary: "The webhook endpoint's state", auth: 'developerOrKey', response: WebhookEndpoint })
  @Get()
  async endpoint(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return this.deliveries.endpoint(await this.owned(session, appId));
  }

  @ApiEndpoint({
    summary: 'The deliveries log, newest first',
    auth: 'developerOrKey',
    query: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 }, cursor: { type: 'string', description: 'nextCursor of the previous page.' } },
    response: WebhookDeliveryList,
    errors: ['invalid_request'],
  })
  @Get('deliveries')
  async list(@CurrentSession() session: Session, @Param('appId') appId: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.deliveries.list(await this.owned(session, appId), parseLimit(limit), cursor);
  }

  @ApiEndpoint({ summary: 'One delivery with its payload and every attempt', auth: 'developerOrKey', response: WebhookDeliveryDetail })
  @Get('deliveries/:deliveryId')
  async get(@CurrentSession() session: Session, @Param('appId') appId: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.get(await this.owned(session, appId), deliveryId);
  }

  @ApiEndpoint({ summary: 'Send the same event again', auth: 'developerOrKey', response: WebhookDelivery, errors: ['invalid_request'] })
  @Post('deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  async redeliver(@CurrentSession() session: Session, @Param('appId') appId: string, @Param('deliveryId') deliveryId: string) {
    return this.deliveries.redeliver(await this.owned(session, appId), deliveryId);
  }

  @ApiEndpoint({ summary: 'Send a ping event', auth: 'developerOrKey', response: QueuedPing, errors: ['invalid_request'] })
  @Post('test')
  @HttpCode(202)
  async test(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return this.deliveries.ping(await this.owned(session, appId));
  }
}
