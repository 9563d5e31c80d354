import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig, WEBHOOK_JITTER } from '@app/config';
import { currentTraceCarrier, randomId } from '@app/common';
import { ConnectionEventData, WEBHOOK_QUEUE, WebhookEventType, WebhookJob } from './events';
import { WebhookEventsRepository } from './webhook-events.repository';

/** BullMQ options of a delivery job: jobId = event id, so a double enqueue is one job. */
export function deliveryJobOptions(config: AppConfig, eventId: string, attemptsLeft = config.webhookMaxAttempts): JobsOptions {
  return {
    jobId: eventId,
    attempts: Math.max(1, attemptsLeft),
    backoff: { type: 'exponential', delay: config.webhookBackoffMs, jitter: WEBHOOK_JITTER },
    // MySQL keeps the delivery record; Redis keeps only what is in flight.
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * The transactional outbox. `record` runs inside the caller's transaction, so
 * an event exists exactly when the change it reports was committed.
 * `dispatch` (after commit) queues it at once; the worker's relay queues
 * whatever this misses (API died, Redis down): OutboxSweeper.
 */
@Injectable()
export class WebhookOutbox {
  private readonly logger = new Logger('webhook-outbox');

  constructor(
    private readonly db: DataSource,
    private readonly events: WebhookEventsRepository,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue<WebhookJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Writes the event when the application has a webhook URL; returns its id, or null. */
  async record(m: EntityManager, type: WebhookEventType, data: ConnectionEventData | { applicationId: string }): Promise<string | null> {
    const id = randomId('msg');
    const payload = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
    return (await this.events.insertIfEndpoint(m, id, data.applicationId, type, payload)) ? id : null;
  }

  /** Queues committed events now; failures are left to the outbox sweeper. Never throws. */
  async dispatch(eventIds: (string | null)[]): Promise<void> {
    const ids = eventIds.filter((id): id is string => !!id);
    if (ids.length === 0) return;
    try {
      // Runs right after the commit, in the request's context: the delivery joins the request's trace.
      const trace = currentTraceCarrier();
      await this.queue.addBulk(ids.map((eventId) => ({ name: 'deliver', data: { eventId, ...trace }, opts: deliveryJobOptions(this.config, eventId) })));
      await this.events.markEnqueued(ids);
    } catch (error: unknown) {
      this.logger.warn(`could not queue ${ids.length} event(s) now, the outbox sweeper will: ${(error as Error).message}`);
    }
  }

  /**
   * Runs `work` in one transaction and dispatches the event ids it returns
   * (from `record`) after the commit; a rollback queues nothing.
   */
  async transaction(work: (m: EntityManager) => Promise<(string | null)[]>): Promise<void> {
    const eventIds = await this.db.transaction(work);
    await this.dispatch(eventIds);
  }

  /** Records and dispatches one event in its own transaction (for changes without one). */
  async emit(type: WebhookEventType, data: ConnectionEventData | { applicationId: string }): Promise<string | null> {
    const id = await this.db.transaction((m) => this.record(m, type, data));
    await this.dispatch([id]);
    return id;
  }
}
