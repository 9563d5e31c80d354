import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The SQL of `relay_messages` and `relay_reply_aliases` (typed raw SQL, no
 * entities). The routing reads join the tables of other libs
 * (`relay_addresses`, `connections`, `applications`, `user_emails`); this lib
 * never writes them.
 */

/** What RCPT TO needs of a relay address: its connection and application (null: a deleted connection). */
export interface RouteRow {
  local_part: string;
  connection_id: string | null;
  application_id: string | null;
  is_forwarding: number | null;
  email_muted: number | null;
  blocked: number | null;
  sender_domains: string | null;
  sender_addresses: string | null;
  /** 1 when the user's primary address is confirmed (forwarding waits for that). */
  primary_confirmed: number | string | null;
}

/** What RCPT TO needs of a reply alias. */
export interface ReplyRow {
  connection_id: string;
  application_id: string;
  blocked: number;
  sender_ok: number;
}

/** A stored message as one delivery attempt needs it. */
export interface MessageRow {
  id: string;
  kind: 'forward' | 'reply';
  status: string;
  application_id: string;
  connection_id: string;
  mail_from: string;
  rcpt_to: string;
  raw: Buffer | null;
  /** The connection's relay local part (null: the connection was deleted). */
  relay_local: string | null;
  /** The user's primary address when confirmed, else the first confirmed one (only confirmed addresses receive forwarded mail). */
  user_email: string | null;
}

/** One relay_messages row to store. */
export interface NewRelayMessage {
  id: string;
  kind: string;
  status: 'queued' | 'dropped';
  applicationId: string | null;
  connectionId: string | null;
  mailFrom: string;
  rcptTo: string;
  sizeBytes: number;
  raw: Buffer | null;
}

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

@Injectable()
export class RelayMessagesRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * relay_addresses keeps every local part ever issued: a row without a
   * connection is a deleted one. One lookup on two primary/unique keys.
   */
  async route(localPart: string): Promise<RouteRow | null> {
    const [row]: RouteRow[] = await this.db.query(
      `SELECT r.local_part, c.id AS connection_id, c.application_id, c.is_forwarding, c.email_muted, c.blocked,
              a.sender_domains, a.sender_addresses,
              EXISTS(SELECT 1 FROM user_emails e WHERE e.user_id = c.user_id AND e.is_primary = 1 AND e.confirmed_at IS NOT NULL) AS primary_confirmed
       FROM relay_addresses r
       LEFT JOIN connections c ON c.relay_local = r.local_part
       LEFT JOIN applications a ON a.id = c.application_id
       WHERE r.local_part = ?`,
      [localPart],
    );
    return row ?? null;
  }

  /** The alias's connection, and whether the sender is one of the user's linked addresses. */
  async replyRoute(alias: string, sender: string): Promise<ReplyRow | null> {
    const [row]: ReplyRow[] = await this.db.query(
      `SELECT a.connection_id, c.application_id, c.blocked,
              (SELECT COUNT(*) FROM user_emails e WHERE e.user_id = c.user_id AND e.email = ? AND (e.linked = 1 OR e.is_primary = 1)) AS sender_ok
       FROM relay_reply_aliases a JOIN connections c ON c.id = a.connection_id
       WHERE a.alias = ?`,
      [sender, alias],
    );
    return row ?? null;
  }

  /**
   * Stores accepted messages in one write; enqueued_at is set in it (one
   * commit per message): should the queueing fail, the sweep finds the row
   * without a job after OUTBOX_LOST_AFTER_SECONDS and queues it.
   */
  async insertAll(rows: NewRelayMessage[]): Promise<void> {
    const placeholders = rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ');
    await this.db.query(
      `INSERT INTO relay_messages (id, kind, status, application_id, connection_id, mail_from, rcpt_to, size_bytes, raw, enqueued_at) VALUES ${placeholders}`,
      rows.flatMap((r) => [r.id, r.kind, r.status, r.applicationId, r.connectionId, r.mailFrom, r.rcptTo, r.sizeBytes, r.raw]),
    );
  }

  async findToDeliver(messageId: string): Promise<MessageRow | null> {
    const [row]: MessageRow[] = await this.db.query(
      `SELECT m.id, m.kind, m.status, m.application_id, m.connection_id, m.mail_from, m.rcpt_to, m.raw, c.relay_local,
              (SELECT e.email FROM user_emails e WHERE e.user_id = c.user_id AND e.confirmed_at IS NOT NULL
               ORDER BY e.is_primary DESC, e.id LIMIT 1) AS user_email
       FROM relay_messages m LEFT JOIN connections c ON c.id = m.connection_id WHERE m.id = ?`,
      [messageId],
    );
    return row ?? null;
  }

  async recordRetry(id: string, error: string): Promise<void> {
    await this.db.query(`UPDATE relay_messages SET attempts = attempts + 1, last_error = ? WHERE id = ?`, [error, id]);
  }

  /** Delivered or given up: the raw message is dropped. */
  async settle(id: string, status: 'delivered' | 'failed', error: string | null): Promise<void> {
    await this.db.query(
      `UPDATE relay_messages SET status = ?, raw = NULL, attempts = attempts + 1, last_error = ?, delivered_at = IF(? = 'delivered', UTC_TIMESTAMP(3), NULL) WHERE id = ?`,
      [status, error, status, id],
    );
  }

  async saveReplyAlias(alias: string, connectionId: string, sender: string): Promise<void> {
    await this.db.query(`INSERT IGNORE INTO relay_reply_aliases (alias, connection_id, sender) VALUES (?, ?, ?)`, [alias, connectionId, sender]);
  }

  /** Where a reply through the alias goes, and the user's addresses to hide in it. */
  async replyTarget(alias: string): Promise<{ sender: string; relayLocal: string; userEmails: string[] } | null> {
    const [target]: { sender: string; relay_local: string; user_id: string }[] = await this.db.query(
      `SELECT a.sender, c.relay_local, c.user_id FROM relay_reply_aliases a JOIN connections c ON c.id = a.connection_id WHERE a.alias = ?`,
      [alias],
    );
    if (!target) return null;
    const emails: { email: string }[] = await this.db.query(`SELECT email FROM user_emails WHERE user_id = ?`, [target.user_id]);
    return { sender: target.sender, relayLocal: target.relay_local, userEmails: emails.map((e) => e.email) };
  }

  /** Stored messages never queued, oldest first. */
  async unqueued(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM relay_messages WHERE status = 'queued' AND enqueued_at IS NULL ORDER BY created_at LIMIT ${Number(limit)}`);
    return rows.map((r) => r.id);
  }

  async markEnqueued(ids: string[]): Promise<void> {
    await this.db.query(`UPDATE relay_messages SET enqueued_at = UTC_TIMESTAMP(3) WHERE id IN (?)`, [ids]);
  }

  /** Queued messages queued longer ago than `seconds`, oldest first. */
  async queuedBefore(seconds: number, limit: number): Promise<{ id: string; attempts: number }[]> {
    return this.db.query(
      `SELECT id, attempts FROM relay_messages WHERE status = 'queued'
       AND enqueued_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(seconds)} SECOND ORDER BY enqueued_at LIMIT ${Number(limit)}`,
    );
  }

  /** One batch of housekeeping: finished messages older than `days` (queued ones are still to be forwarded). */
  async purgeFinished(days: number, batch: number): Promise<number> {
    return affected(
      await this.db.query(`DELETE FROM relay_messages WHERE status <> 'queued' AND created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`),
    );
  }
}
