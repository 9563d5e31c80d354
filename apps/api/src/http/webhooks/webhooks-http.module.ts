import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { WebhooksModule } from '@app/webhooks';
import { WebhooksController } from './webhooks.controller';

@Module({
  imports: [DeveloperModule, WebhooksModule],
  controllers: [WebhooksController],
})
export class WebhooksHttpModule {}
