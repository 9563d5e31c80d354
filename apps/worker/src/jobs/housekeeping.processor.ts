import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QUEUES } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ManagedWorkerHost } from './managed-worker-host';

const BATCH = 1000;

export interface HousekeepingResult {
  /** Rows removed per table (the total is `removed`). */
  tables: Record<string, number>;
  removed: number;
}

/**
 * Keeps tables bounded, in batches of 1,000 rows so a run never holds long locks:
 * - access tokens past their expiry (revoked or not: a revoked token is only kept
 *   until it would have expired anyway);
 * - refresh tokens past their family's absolute expiry (used ones are kept until
 *   then: replay detection);
 * - expired email verification links;
 * - webhook delivery attempts, delivered webhook events and finished relay
 *   message logs older than WEBHOOK_LOG_RETENTION_DAYS (default 30).
 * Scheduled every 10 minutes (one scheduler for all worker processes, by BullMQ's
 * job scheduler id, so M worker processes do not run it M times).
 */
@Processor(QUEUES.housekeeping)
export class HousekeepingProcessor extends ManagedWorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('housekeeping');

  constructor(
    private readonly db: DataSource,
    @InjectQueue(QUEUES.housekeeping) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async onApplicationBootstrap() {
    await this.queue.upsertJobScheduler('purge-expired', { every: 10 * 60 * 1000 }, { name: 'purge-expired' });
  }

  /** Runs `DELETE ... LIMIT 1000` until a batch removes fewer rows; returns the count. */
  private async inBatches(sql: string, params: unknown[] = []): Promise<number> {
    let removed = 0;
    for (;;) {
      const result = await this.db.query<{ affectedRows?: number }>(`${sql} LIMIT ${BATCH}`, params);
      const affected = Number(result.affectedRows ?? 0);
      removed += affected;
      if (affected < BATCH) return removed;
    }
  }

  async process(): Promise<HousekeepingResult> {
    const days = this.config.webhookLogRetentionDays;
    const cutoff = `UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY`;
    const tables: Record<string, number> = {};
    tables.access_tokens = await this.inBatches('DELETE FROM access_tokens WHERE expires_at < UTC_TIMESTAMP(3)');
    tables.refresh_tokens = await this.inBatches('DELETE FROM refresh_tokens WHERE family_expires_at < UTC_TIMESTAMP(3)');
    tables.email_verifications = await this.inBatches('DELETE FROM email_verifications WHERE expires_at < UTC_TIMESTAMP(3)');
    tables.webhook_attempts = await this.inBatches(`DELETE FROM webhook_attempts WHERE created_at < ${cutoff}`);
    // Only delivered events: pending and failed ones stay visible to the developer (and the outbox).
    // Their remaining attempts go with them (ON DELETE CASCADE).
    tables.webhook_events = await this.inBatches(`DELETE FROM webhook_events WHERE status = 'delivered' AND created_at < ${cutoff}`);
    // Finished relay messages only (queued ones are still to be forwarded).
    tables.relay_messages = await this.inBatches(`DELETE FROM relay_messages WHERE status <> 'queued' AND created_at < ${cutoff}`);
    const removed = Object.values(tables).reduce((a, b) => a + b, 0);
    this.logger.log(`removed ${removed} rows (${Object.entries(tables).map(([t, n]) => `${t} ${n}`).join(', ')})`);
    return { tables, removed };
  }
}
