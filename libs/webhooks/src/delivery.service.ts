import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decrypt } from '@app/common';
import { PostResult, safePost } from './safe-post';
import { signWebhook } from './signing';

export type DeliveryOutcome = 'delivered' | 'skipped' | 'failed';
type EventStatus = 'pending' | 'delivered' | 'failed';

/**
 * One delivery attempt of one event: sign, POST, record the attempt, move the
 * event's state. Throws to let BullMQ retry (with backoff), or
 * UnrecoverableError when retrying cannot help. Idempotent: an event already
 * delivered or failed is skipped, so a duplicate job is harmless.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly logger = new Logger('webhook-delivery');

  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async deliver(eventId: string, attempt: number, maxAttempts: number): Promise<DeliveryOutcome> {
    const [event] = await this.db.query<
      {
        id: string;
        type: string;
        payload: string;
        status: EventStatus;
        application_id: string;
        webhook_url: string | null;
        webhook_secret_enc: string;
        webhook_disabled_at: Date | null;
      }[]
    >(
      `SELECT e.id, e.type, e.payload, e.status, e.application_id, a.webhook_url, a.webhook_secret_enc, a.webhook_disabled_at
       FROM webhook_events e JOIN applications a ON a.id = e.application_id WHERE e.id = ?`,
      [eventId],
    );
    if (!event || event.status !== 'pending') return 'skipped';
    if (!event.webhook_url || event.webhook_disabled_at) {
      await this.setState(this.db.manager, eventId, 'failed', null, 'the webhook endpoint is disabled or removed');
      this.logger.log(`event ${eventId} (${event.type}) not sent: endpoint disabled`);
      return 'failed';
    }

    const timestamp = Math.floor(Date.now() / 1000);
    const secret = decrypt(this.config.secrets.dataEncryptionKey, event.webhook_secret_enc);
    const result = await safePost(
      event.webhook_url,
      {
        'content-type': 'application/json',
        'user-agent': 'LoginSign-Webhooks/1',
        'webhook-id': eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, eventId, timestamp, event.payload),
      },
      event.payload,
      { timeoutMs: this.config.webhookTimeoutMs, allowPrivate: this.config.allowPrivateWebhookTargets },
    );
    const code = result.statusCode;
    const error = result.error ?? (code !== null && code >= 200 && code < 300 ? null : `HTTP ${code}`);
    const outcome = `event ${eventId} (${event.type}) attempt ${attempt}/${maxAttempts}: ${code ?? result.error} in ${result.durationMs} ms`;
    const target = { id: event.id, application_id: event.application_id, webhook_url: event.webhook_url };
    const record = (status: EventStatus, lastError: string | null, disableEndpoint = false) =>
      this.recordAttempt(target, attempt, result, status, lastError, disableEndpoint);

    if (error === null) {
      await record('delivered', null);
      this.logger.log(`${outcome}: delivered`);
      return 'delivered';
    }
    if (code === 410) {
      // 410 Gone: the receiver asks us to stop (Standard Webhooks).
      await record('failed', 'endpoint answered 410 Gone: disabled', true);
      this.logger.warn(`${outcome}: endpoint disabled`);
      throw new UnrecoverableError('endpoint answered 410 Gone');
    }
    if (result.error?.startsWith('blocked') || result.error === 'invalid webhook URL') {
      await record('failed', error);
      this.logger.warn(`${outcome}: refused`);
      throw new UnrecoverableError(error);
    }
    if (attempt >= maxAttempts) {
      await record('failed', error);
      this.logger.warn(`${outcome}: failed for good`);
      throw new UnrecoverableError(error);
    }
    await record('pending', error);
    this.logger.log(`${outcome}: will retry`);
    throw new Error(error);
  }

  /** The attempt's log row and the event's new state, in one commit. */
  private recordAttempt(
    event: { id: string; application_id: string; webhook_url: string },
    attempt: number,
    result: PostResult,
    status: EventStatus,
    lastError: string | null,
    disableEndpoint: boolean,
  ) {
    return this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO webhook_attempts (event_id, attempt, url, status_code, duration_ms, error, response_excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [event.id, attempt, event.webhook_url, result.statusCode, result.durationMs, result.error, result.responseExcerpt],
      );
      await this.setState(m, event.id, status, result.statusCode, lastError);
      if (disableEndpoint) await m.query(`UPDATE applications SET webhook_disabled_at = UTC_TIMESTAMP(3) WHERE id = ?`, [event.application_id]);
    });
  }

  private async setState(m: EntityManager, eventId: string, status: EventStatus, code: number | null, error: string | null) {
    await m.query(
      `UPDATE webhook_events SET status = ?, attempts = attempts + 1, last_status_code = ?, last_error = ?,
         delivered_at = IF(? = 'delivered', UTC_TIMESTAMP(3), NULL)
       WHERE id = ?`,
      [status, code, error?.slice(0, 500) ?? null, status, eventId],
    );
  }
}
