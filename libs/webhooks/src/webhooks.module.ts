import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { WEBHOOK_QUEUE } from './events';
import { WebhookOutbox } from './outbox.service';
import { WebhookDeliveriesService } from './deliveries.service';

/** What the API needs: the outbox and the deliveries log (no processor here). */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: [WebhookOutbox, WebhookDeliveriesService],
  exports: [BullModule, WebhookOutbox, WebhookDeliveriesService],
})
export class WebhooksModule {}
