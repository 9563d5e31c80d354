import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, decodeCursor, encodeCursor, isoUtc, notFound } from '@app/common';
import { WebhookOutbox } from './outbox.service';

export interface DeliveryView {
  id: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string | null;
  deliveredAt: string | null;
}

/** A webhook_events row as the delivery queries select it. */
interface EventRow {
  id: string;
  type: string;
  status: DeliveryView['status'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A webhook_attempts row. */
interface AttemptRow {
  attempt: number;
  url: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
  created_at: Date;
}

const toView = (r: EventRow): DeliveryView => ({
  id: r.id,
  type: r.type,
  status: r.status,
  attempts: Number(r.attempts),
  lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
  lastError: r.last_error,
  createdAt: isoUtc(r.created_at),
  deliveredAt: isoUtc(r.delivered_at),
});

/**
 * The developer's view of webhook deliveries. Callers pass an application id
 * they have already checked belongs to the developer.
 */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly db: DataSource,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private cursorKey() {
    return this.config.secrets.sessionSecret;
  }

  async endpoint(applicationId: string) {
    const [row] = await this.db.query<{ webhook_url: string | null; webhook_disabled_at: Date | null }[]>(`SELECT webhook_url, webhook_disabled_at FROM applications WHERE id = ?`, [applicationId]);
    if (!row) throw notFound('The application');
    return { webhookUrl: row.webhook_url, enabled: !!row.webhook_url && !row.webhook_disabled_at, disabledAt: isoUtc(row.webhook_disabled_at) };
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(applicationId: string, limit: number, cursor?: string): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(this.cursorKey(), cursor) : null;
    const rows = await this.db.query<EventRow[]>(
      `SELECT id, type, status, attempts, last_status_code, last_error, created_at, delivered_at FROM webhook_events
       WHERE application_id = ? ${after ? 'AND (created_at, id) < (?, ?)' : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      after ? [applicationId, after.at, after.id, limit + 1] : [applicationId, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { deliveries: page.map(toView), nextCursor: rows.length > limit ? encodeCursor(this.cursorKey(), last.created_at, last.id) : null };
  }

  private async view(applicationId: string, eventId: string) {
    const [row] = await this.db.query<(EventRow & { payload: string })[]>(
      `SELECT id, type, status, attempts, last_status_code, last_error, created_at, delivered_at, payload FROM webhook_events WHERE id = ? AND application_id = ?`,
      [eventId, applicationId],
    );
    if (!row) throw notFound('The delivery');
    return row;
  }

  /** One delivery with its payload and every attempt. */
  async get(applicationId: string, eventId: string) {
    const row = await this.view(applicationId, eventId);
    const attempts = await this.db.query<AttemptRow[]>(
      `SELECT attempt, url, status_code, duration_ms, error, response_excerpt, created_at FROM webhook_attempts WHERE event_id = ? ORDER BY id`,
      [eventId],
    );
    return {
      ...toView(row),
      payload: JSON.parse(row.payload) as unknown,
      attemptLog: attempts.map((a) => ({
        attempt: Number(a.attempt),
        url: a.url,
        statusCode: a.status_code === null ? null : Number(a.status_code),
        durationMs: Number(a.duration_ms),
        error: a.error,
        responseExcerpt: a.response_excerpt,
        at: isoUtc(a.created_at),
      })),
    };
  }

  /** Sends the same event (same webhook-id) again, with a fresh retry budget. */
  async redeliver(applicationId: string, eventId: string): Promise<DeliveryView> {
    await this.view(applicationId, eventId);
    const endpoint = await this.endpoint(applicationId);
    if (!endpoint.webhookUrl) throw new AppError('invalid_request', 'The application has no webhook URL.');
    const result = await this.db.query<{ affectedRows: number }>(
      `UPDATE webhook_events SET status = 'pending', enqueued_at = NULL, delivered_at = NULL WHERE id = ? AND application_id = ?`,
      [eventId, applicationId],
    );
    if (result.affectedRows !== 1) throw notFound('The delivery');
    // Re-enabling on explicit request: the developer says the endpoint is back.
    await this.db.query(`UPDATE applications SET webhook_disabled_at = NULL WHERE id = ?`, [applicationId]);
    await this.outbox.dispatch([eventId]);
    return toView(await this.view(applicationId, eventId));
  }

  /** A `ping` event to check the endpoint. */
  async ping(applicationId: string): Promise<{ id: string }> {
    const endpoint = await this.endpoint(applicationId);
    if (!endpoint.webhookUrl) throw new AppError('invalid_request', 'Set a webhook URL first.');
    await this.db.query(`UPDATE applications SET webhook_disabled_at = NULL WHERE id = ?`, [applicationId]);
    const id = await this.outbox.emit('ping', { applicationId });
    return { id: id! };
  }
}
