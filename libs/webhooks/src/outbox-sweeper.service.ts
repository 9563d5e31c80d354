import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import { WEBHOOK_QUEUE, WebhookJob } from './events';
import { WebhookEventsRepository } from './webhook-events.repository';
import { deliveryJobOptions } from './webhook-outbox.service';

const BATCH = 500;

/**
 * The outbox sweeper (worker only): moves committed events that are not queued
 * yet into BullMQ, and re-queues pending events whose job vanished (Redis
 * without persistence restarted). Several workers may run it at once: the
 * job id is the event id, so BullMQ keeps one job per event.
 */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('outbox-sweeper');
  private timer?: NodeJS.Timeout;
  private running = false;
  private lastLostCheck = 0;
  /** Unix ms of the last completed pass (the worker's readiness heartbeat). */
  lastPassAt = 0;

  constructor(
    private readonly events: WebhookEventsRepository,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.tick(), this.config.outboxRelayIntervalMs);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  private async tick() {
    if (this.running) return;
    this.running = true;
    try {
      while ((await this.relayUnqueued()) === BATCH);
      if (Date.now() - this.lastLostCheck > this.config.outboxLostAfterSeconds * 1000) {
        await this.requeueLost();
        this.lastLostCheck = Date.now();
      }
      this.lastPassAt = Date.now();
    } catch (error) {
      this.logger.warn(`sweeper pass failed, will retry: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /** Queues events committed but never queued; returns how many. */
  async relayUnqueued(): Promise<number> {
    const ids = await this.events.unqueued(BATCH);
    if (ids.length === 0) return 0;
    await this.queue.addBulk(ids.map((eventId) => ({ name: 'deliver', data: { eventId }, opts: deliveryJobOptions(this.config, eventId) })));
    await this.events.markEnqueued(ids);
    this.logger.log(`queued ${ids.length} event(s) from the outbox`);
    return ids.length;
  }

  /** Re-queues pending events that BullMQ no longer knows. */
  async requeueLost(): Promise<number> {
    const rows = await this.events.queuedBefore(this.config.outboxLostAfterSeconds, BATCH);
    let requeued = 0;
    for (const row of rows) {
      if (await this.queue.getJob(row.id)) continue;
      await this.queue.add('deliver', { eventId: row.id }, deliveryJobOptions(this.config, row.id, this.config.webhookMaxAttempts - row.attempts));
      requeued++;
    }
    if (requeued) this.logger.warn(`re-queued ${requeued} event(s) whose job was lost`);
    return requeued;
  }
}
