import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QUEUES, SessionService } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SessionCountsRepository } from '@app/connections';
import { EmailVerificationsRepository } from '@app/identity';
import { TokensRepository } from '@app/oauth';
import { RelayMessagesRepository } from '@app/relay';
import { WebhookEventsRepository } from '@app/webhooks';
import { ManagedWorkerHost } from './managed-worker-host';

const BATCH = 1000;

export interface HousekeepingResult {
  /** Rows removed per table, and ended-session ids removed from the Redis indexes (the total is `removed`). */
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
 * - webhook delivery attempts, delivered webhook events, finished relay
 *   message logs and orphaned relay bodies older than WEBHOOK_LOG_RETENTION_DAYS (default 30);
 * - webhook events that failed for good, after FAILED_WEBHOOK_RETENTION_DAYS (90);
 * - relay reply aliases unused for RELAY_REPLY_ALIAS_RETENTION_DAYS (180);
 * - ids of session count batches applied more than a day ago;
 * - ids of ended sessions in the per-account session indexes in Redis (SCAN, never KEYS).
 * Every delete touches only the rows it removes: nothing shared is updated.
 * Scheduled every 10 minutes (one scheduler for all worker processes, by BullMQ's
 * job scheduler id, so M worker processes do not run it M times).
 */
@Processor(QUEUES.housekeeping)
export class HousekeepingProcessor extends ManagedWorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('housekeeping');
  private readonly tokens: TokensRepository;
  private readonly emailVerifications: EmailVerificationsRepository;
  private readonly webhookEvents: WebhookEventsRepository;
  private readonly relayMessages: RelayMessagesRepository;
  private readonly sessionCountBatches: SessionCountsRepository;

  constructor(
    db: DataSource,
    @InjectQueue(QUEUES.housekeeping) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionService,
  ) {
    super();
    // Each table's purge is its owner's (the repositories are plain classes over the DataSource).
    this.tokens = new TokensRepository(db);
    this.emailVerifications = new EmailVerificationsRepository(db);
    this.webhookEvents = new WebhookEventsRepository(db);
    this.relayMessages = new RelayMessagesRepository(db);
    this.sessionCountBatches = new SessionCountsRepository(db);
  }

  async onApplicationBootstrap() {
    await this.queue.upsertJobScheduler('purge-expired', { every: 10 * 60 * 1000 }, { name: 'purge-expired' });
  }

  /** Runs one batch delete (at most 1000 rows) until a batch removes fewer rows; returns the count. */
  private async inBatches(purge: (batch: number) => Promise<number>): Promise<number> {
    let removed = 0;
    for (;;) {
      const affected = await purge(BATCH);
      removed += affected;
      if (affected < BATCH) return removed;
    }
  }

  async process(): Promise<HousekeepingResult> {
    const days = this.config.webhookLogRetentionDays;
    const tables: Record<string, number> = {};
    tables.access_tokens = await this.inBatches((n) => this.tokens.purgeExpiredAccessTokens(n));
    tables.refresh_tokens = await this.inBatches((n) => this.tokens.purgeExpiredRefreshTokens(n));
    tables.email_verifications = await this.inBatches((n) => this.emailVerifications.purgeExpired(n));
    tables.webhook_attempts = await this.inBatches((n) => this.webhookEvents.purgeAttempts(days, n));
    // Only delivered events: pending and failed ones stay visible to the developer (and the outbox).
    // Their remaining attempts go with them (ON DELETE CASCADE).
    tables.webhook_events = await this.inBatches((n) => this.webhookEvents.purgeDelivered(days, n));
    // Finished relay messages only (queued ones are still to be forwarded).
    tables.relay_messages = await this.inBatches((n) => this.relayMessages.purgeFinished(days, n));
    tables.relay_message_bodies = await this.inBatches((n) => this.relayMessages.purgeOrphanBodies(days, n));
    tables.failed_webhook_events = await this.inBatches((n) => this.webhookEvents.purgeFailed(this.config.retention.failedWebhookDays, n));
    tables.relay_reply_aliases = await this.inBatches((n) => this.relayMessages.purgeUnusedReplyAliases(this.config.retention.replyAliasDays, n));
    tables.session_count_batches = await this.inBatches((n) => this.sessionCountBatches.purgeAppliedBatches(n));
    tables.session_index_entries = await this.sessions.pruneAllIndexes(BATCH);
    const removed = Object.values(tables).reduce((a, b) => a + b, 0);
    this.logger.log(
      `removed ${removed} rows (${Object.entries(tables)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')})`,
    );
    return { tables, removed };
  }
}
