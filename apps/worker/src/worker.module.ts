import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { bullRoot, MetricsModule, QUEUES, RedisModule, registerQueue, SessionModule, TracingFlush } from '@app/common';
import { OutboxSweeper, WEBHOOK_QUEUE, WebhookDeliveryService, WebhooksModule } from '@app/webhooks';
import { RELAY_QUEUE, RelayDelivery, RelayModule } from '@app/relay';
import { SessionCounts, SessionCountsRepository } from '@app/connections';
import { HousekeepingProcessor } from './jobs/housekeeping.processor';
import { WebhookDeliveryProcessor } from './jobs/webhook-delivery.processor';
import { RelayDeliveryProcessor } from './jobs/relay-delivery.processor';
import { WorkerHeartbeat } from './heartbeat';
import { SessionCountFlusher } from './session-count-flusher';

/** The worker: BullMQ processors, the outbox sweeper, housekeeping, the session count flusher. No HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        SessionModule,
        bullRoot('worker'),
        registerQueue(QUEUES.housekeeping),
        WebhooksModule,
        RelayModule,
        MetricsModule.forRole({
          role: 'worker',
          queues: [WEBHOOK_QUEUE, RELAY_QUEUE, QUEUES.housekeeping],
          port: (c) => c.metrics.workerPort,
          portVariable: 'WORKER_METRICS_PORT',
        }),
      ],
      providers: [
        TracingFlush,
        HousekeepingProcessor,
        WebhookDeliveryProcessor,
        WebhookDeliveryService,
        OutboxSweeper,
        WorkerHeartbeat,
        RelayDeliveryProcessor,
        RelayDelivery,
        SessionCountsRepository,
        SessionCounts,
        SessionCountFlusher,
      ],
    };
  }
}
