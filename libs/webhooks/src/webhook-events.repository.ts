import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The SQL of `webhook_events` and `webhook_attempts` (typed raw SQL, no
 * entities). Reads may join `applications` (the developer lib's table) for
 * the endpoint; writes to it go through ApplicationsService.
 */

export type EventStatus = 'pending' | 'delivered' | 'failed';

/** A row of the developer's deliveries log. */
export interface DeliveryRow {
  id: string;
  type: string;
  status: EventStatus;
  attempts: number | string;
  last_status_code: number | string | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface AttemptRow {
  attempt: number | string;
  url: string;
  status_code: number | string | null;
  duration_ms: number | string;
  error: string | null;
  response_excerpt: string | null;
  created_at: Date;
}

/** An event with its application's endpoint, as one delivery attempt needs it. */
export interface EventToDeliver {
  id: string;
  type: string;
  payload: string;
  status: EventStatus;
  application_id: string;
  webhook_url: string | null;
  webhook_secret_enc: string;
  webhook_disabled_at: Date | null;
}

export interface AttemptRecord {
  eventId: string;
  attempt: number;
  url: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

@Injectable()
export class WebhookEventsRepository {
  constructor(private readonly db: DataSource) {}

  /** Writes the event when the application has a webhook URL; false when it has none. */
  async insertIfEndpoint(m: EntityManager, id: string, applicationId: string, type: string, payload: string): Promise<boolean> {
    const result: { affectedRows: number } = await m.query(
      `INSERT INTO webhook_events (id, application_id, type, payload)
       SELECT ?, id, ?, ? FROM applications WHERE id = ? AND webhook_url IS NOT NULL`,
      [id, type, payload, applicationId],
    );
    return result.affectedRows === 1;
  }

  async markEnqueued(ids: string[]): Promise<void> {
    await this.db.query(`UPDATE webhook_events SET enqueued_at = UTC_TIMESTAMP(3) WHERE id IN (?)`, [ids]);
  }

  /** Events committed but never queued, oldest first. */
  async unqueued(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM webhook_events WHERE status = 'pending' AND enqueued_at IS NULL ORDER BY created_at LIMIT ${Number(limit)}`);
    return rows.map((r) => r.id);
  }

  /** Pending events queued longer ago than `seconds`, oldest first. */
  async queuedBefore(seconds: number, limit: number): Promise<{ id: string; attempts: number }[]> {
    return this.db.query(
      `SELECT id, attempts FROM webhook_events
       WHERE status = 'pending' AND enqueued_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(seconds)} SECOND
       ORDER BY enqueued_at LIMIT ${Number(limit)}`,
    );
  }

  /** How many committed events wait to be queued, and the age in seconds of the oldest (null: none). */
  async backlog(): Promise<{ unqueued: number; oldestUnqueuedSeconds: number | null }> {
    const [row]: { unqueued: number | string; oldest: number | string | null }[] = await this.db.query(
      `SELECT COUNT(*) AS unqueued, TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(3)) AS oldest FROM webhook_events WHERE status = 'pending' AND enqueued_at IS NULL`,
    );
    return { unqueued: Number(row.unqueued), oldestUnqueuedSeconds: row.oldest === null ? null : Number(row.oldest) };
  }

  /** Newest first, keyset-paginated on (created_at, id); one more row than the limit. */
  async page(applicationId: string, after: { at: Date; id: string } | null, limit: number): Promise<DeliveryRow[]> {
    return this.db.query(
      `SELECT id, type, status, attempts, last_status_code, last_error, created_at, delivered_at FROM webhook_events
       WHERE application_id = ? ${after ? 'AND (created_at, id) < (?, ?)' : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      after ? [applicationId, after.at, after.id, limit] : [applicationId, limit],
    );
  }

  async find(applicationId: string, eventId: string): Promise<(DeliveryRow & { payload: string }) | null> {
    const [row]: (DeliveryRow & { payload: string })[] = await this.db.query(
      `SELECT id, type, status, attempts, last_status_code, last_error, created_at, delivered_at, payload FROM webhook_events WHERE id = ? AND application_id = ?`,
      [eventId, applicationId],
    );
    return row ?? null;
  }

  async attempts(eventId: string): Promise<AttemptRow[]> {
    return this.db.query(`SELECT attempt, url, status_code, duration_ms, error, response_excerpt, created_at FROM webhook_attempts WHERE event_id = ? ORDER BY id`, [eventId]);
  }

  /** The event pending again with a fresh retry budget; false when it is not the application's. */
  async resetForRedelivery(applicationId: string, eventId: string): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE webhook_events SET status = 'pending', enqueued_at = NULL, delivered_at = NULL WHERE id = ? AND application_id = ?`,
      [eventId, applicationId],
    );
    return result.affectedRows === 1;
  }

  async findToDeliver(eventId: string): Promise<EventToDeliver | null> {
    const [event]: EventToDeliver[] = await this.db.query(
      `SELECT e.id, e.type, e.payload, e.status, e.application_id, a.webhook_url, a.webhook_secret_enc, a.webhook_disabled_at
       FROM webhook_events e JOIN applications a ON a.id = e.application_id WHERE e.id = ?`,
      [eventId],
    );
    return event ?? null;
  }

  async insertAttempt(m: EntityManager, a: AttemptRecord): Promise<void> {
    await m.query(`INSERT INTO webhook_attempts (event_id, attempt, url, status_code, duration_ms, error, response_excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
      a.eventId,
      a.attempt,
      a.url,
      a.statusCode,
      a.durationMs,
      a.error,
      a.responseExcerpt,
    ]);
  }

  /** One attempt more, the new status and the last outcome. */
  async setState(m: EntityManager, eventId: string, status: EventStatus, code: number | null, error: string | null): Promise<void> {
    await m.query(
      `UPDATE webhook_events SET status = ?, attempts = attempts + 1, last_status_code = ?, last_error = ?,
         delivered_at = IF(? = 'delivered', UTC_TIMESTAMP(3), NULL)
       WHERE id = ?`,
      [status, code, error?.slice(0, 500) ?? null, status, eventId],
    );
  }

  /** One batch of housekeeping: attempts older than `days`; returns how many rows went. */
  async purgeAttempts(days: number, batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM webhook_attempts WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`));
  }

  /** One batch of housekeeping: delivered events older than `days` (pending and failed ones stay visible); their attempts go by cascade. */
  async purgeDelivered(days: number, batch: number): Promise<number> {
    return affected(
      await this.db.query(`DELETE FROM webhook_events WHERE status = 'delivered' AND created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`),
    );
  }

  /** One batch of housekeeping: events that failed for good more than `days` ago (the developer saw them until then); their attempts go by cascade. */
  async purgeFailed(days: number, batch: number): Promise<number> {
    return affected(
      await this.db.query(`DELETE FROM webhook_events WHERE status = 'failed' AND created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`),
    );
  }
}

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);
