import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { WEBHOOK_QUEUE, WebhookJob } from './events';
import { deliveryJobOptions } from './outbox.service';

const BATCH = 500;

/**
 * The outbox relay (worker only): moves committed events that are not queued
 * yet into BullMQ, and re-queues pending events whose job vanished (Redis
 * without persistence restarted). Several workers may run it at once: the
 * job id is the event id, so BullMQ keeps one job per event.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('outbox-relay');
  private timer?: NodeJS.Timeout;
  private running = false;
  private lastLostCheck = 0;
  /** Unix ms of the last completed pass (the worker's readiness heartbeat). */
  lastPassAt = 0;

  constructor(
    private readonly db: DataSource,
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
      this.logger.warn(`relay pass failed, will retry: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /** Queues events committed but never queued; returns how many. */
  async relayUnqueued(): Promise<number> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM webhook_events WHERE status = 'pending' AND enqueued_at IS NULL ORDER BY created_at LIMIT ${BATCH}`,
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await this.queue.addBulk(ids.map((eventId) => ({ name: 'deliver', data: { eventId }, opts: deliveryJobOptions(this.config, eventId) })));
    await this.db.query(`UPDATE webhook_events SET enqueued_at = UTC_TIMESTAMP(3) WHERE id IN (?)`, [ids]);
    this.logger.log(`queued ${ids.length} event(s) from the outbox`);
    return ids.length;
  }

  /** Re-queues pending events that BullMQ no longer knows. */
  async requeueLost(): Promise<number> {
    const rows: { id: string; attempts: number }[] = await this.db.query(
      `SELECT id, attempts FROM webhook_events
       WHERE status = 'pending' AND enqueued_at < UTC_TIMESTAMP(3) - INTERVAL ${this.config.outboxLostAfterSeconds} SECOND
       ORDER BY enqueued_at LIMIT ${BATCH}`,
    );
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
