import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decrypt } from '@app/common';
import { safePost } from './safe-post';
import { signWebhook } from './signing';

export type DeliveryOutcome = 'delivered' | 'skipped' | 'failed';

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
    const [event] = await this.db.query(
      `SELECT e.id, e.type, e.payload, e.status, e.application_id, a.webhook_url, a.webhook_secret_enc, a.webhook_disabled_at
       FROM webhook_events e JOIN applications a ON a.id = e.application_id WHERE e.id = ?`,
      [eventId],
    );
    if (!event || event.status !== 'pending') return 'skipped';
    if (!event.webhook_url || event.webhook_disabled_at) {
      await this.finish(eventId, 'failed', null, 'the webhook endpoint is disabled or removed');
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
    await this.db.query(
      `INSERT INTO webhook_attempts (event_id, attempt, url, status_code, duration_ms, error, response_excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [eventId, attempt, event.webhook_url, result.statusCode, result.durationMs, result.error, result.responseExcerpt],
    );
    const code = result.statusCode;
    const outcome = `event ${eventId} (${event.type}) attempt ${attempt}/${maxAttempts}: ${code ?? result.error} in ${result.durationMs} ms`;

    if (code !== null && code >= 200 && code < 300) {
      await this.finish(eventId, 'delivered', code, null);
      this.logger.log(`${outcome}: delivered`);
      return 'delivered';
    }
    if (code === 410) {
      // 410 Gone: the receiver asks us to stop (Standard Webhooks).
      await this.db.query(`UPDATE applications SET webhook_disabled_at = UTC_TIMESTAMP(3) WHERE id = ?`, [event.application_id]);
      await this.finish(eventId, 'failed', code, 'endpoint answered 410 Gone: disabled');
      this.logger.warn(`${outcome}: endpoint disabled`);
      throw new UnrecoverableError('endpoint answered 410 Gone');
    }
    if (result.error?.startsWith('blocked') || result.error === 'invalid webhook URL') {
      await this.finish(eventId, 'failed', null, result.error);
      this.logger.warn(`${outcome}: refused`);
      throw new UnrecoverableError(result.error);
    }
    const error = result.error ?? `HTTP ${code}`;
    if (attempt >= maxAttempts) {
      await this.finish(eventId, 'failed', code, error);
      this.logger.warn(`${outcome}: failed for good`);
      throw new UnrecoverableError(error);
    }
    await this.db.query(`UPDATE webhook_events SET attempts = attempts + 1, last_status_code = ?, last_error = ? WHERE id = ?`, [
      code,
      error.slice(0, 500),
      eventId,
    ]);
    this.logger.log(`${outcome}: will retry`);
    throw new Error(error);
  }

  private async finish(eventId: string, status: 'delivered' | 'failed', code: number | null, error: string | null) {
    await this.db.query(
      `UPDATE webhook_events SET status = ?, attempts = attempts + 1, last_status_code = ?, last_error = ?,
         delivered_at = IF(? = 'delivered', UTC_TIMESTAMP(3), NULL)
       WHERE id = ?`,
      [status, code, error?.slice(0, 500) ?? null, status, eventId],
    );
  }
}
