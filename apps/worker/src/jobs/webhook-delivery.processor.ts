import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { inJobSpan } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { WEBHOOK_QUEUE, WebhookDeliveryService, WebhookJob } from '@app/webhooks';
import { WorkerHeartbeat } from '../heartbeat';
import { ManagedWorkerHost } from './managed-worker-host';
import { CountsWebhookDeliveries } from './delivery-metrics';

/** Delivers webhook events; BullMQ retries a thrown attempt with backoff. */
@Processor(WEBHOOK_QUEUE, { autorun: false })
export class WebhookDeliveryProcessor extends ManagedWorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly delivery: WebhookDeliveryService,
    private readonly heartbeat: WorkerHeartbeat,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap() {
    this.startWorker(this.config, this.config.webhookConcurrency);
  }

  @CountsWebhookDeliveries()
  async process(job: Job<WebhookJob>) {
    try {
      const attempt = job.attemptsMade + 1;
      return await inJobSpan('webhook delivery', job.data, { 'loginsign.webhook.event_id': job.data.eventId, 'loginsign.attempt': attempt }, () =>
        this.delivery.deliver(job.data.eventId, attempt, job.opts.attempts ?? 1),
      );
    } finally {
      this.heartbeat.jobDone();
    }
  }
}
