import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import { inJobSpan } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { RELAY_QUEUE, RelayDelivery, RelayJob } from '@app/relay';
import { WorkerHeartbeat } from '../heartbeat';
import { ManagedWorkerHost } from './managed-worker-host';

/** Sends relay mail (forwards and replies) over SMTP_URL; BullMQ retries a thrown attempt with backoff. */
@Processor(RELAY_QUEUE, { autorun: false })
export class RelayDeliveryProcessor extends ManagedWorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly delivery: RelayDelivery,
    private readonly heartbeat: WorkerHeartbeat,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap() {
    this.startWorker(this.config, this.config.relay.concurrency);
  }

  async process(job: Job<RelayJob>) {
    try {
      const attempt = job.attemptsMade + 1;
      return await inJobSpan('relay delivery', job.data, { 'loginsign.relay.message_id': job.data.messageId, 'loginsign.attempt': attempt }, () =>
        this.delivery.deliver(job.data.messageId, attempt, job.opts.attempts ?? 1),
      );
    } finally {
      this.heartbeat.jobDone();
    }
  }
}
