import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { registerQueue } from '@app/common';
import { WEBHOOK_QUEUE } from './events';
import { DeveloperModule } from '@app/developer';
import { WebhookEventsRepository } from './webhook-events.repository';
import { WebhookOutbox } from './webhook-outbox.service';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

/** What the API needs: the outbox and the deliveries log (no processor here). */
@Module({
  imports: [registerQueue(WEBHOOK_QUEUE), DeveloperModule],
  providers: [WebhookEventsRepository, WebhookOutbox, WebhookDeliveriesService],
  exports: [BullModule, WebhookEventsRepository, WebhookOutbox, WebhookDeliveriesService, DeveloperModule],
})
export class WebhooksModule {}
