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
  /** 1 when the user's primary address is confirmed. */
  primary_confirmed: number | string | null;
}

/** What RCPT TO needs of a reply alias. */
export interface ReplyRow {
  connection_id: string;
  application_id: string;
  user_id: string;
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
  /** The user's primary address, when it is confirmed (only confirmed addresses receive forwarded mail). */
  user_email: string | null;
  body_id: string | null;
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
  /** The transaction's stored body (null: recorded without the message). */
  bodyId: string | null;
}

/** One line of an application's relay log. */
export interface RelayLogRow {
  id: string;
  kind: string;
  status: string;
  mail_from: string;
  rcpt_to: string;
  size_bytes: number;
  last_error: string | null;
  created_at: Date;
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
              a.sender_domains_verified AS sender_domains, a.sender_addresses,
              (SELECT COUNT(*) FROM user_emails e WHERE e.user_id = c.user_id AND e.is_primary = 1 AND e.confirmed_at IS NOT NULL) AS primary_confirmed
       FROM relay_addresses r
       LEFT JOIN connections c ON c.relay_local = r.local_part
       LEFT JOIN applications a ON a.id = c.application_id
       WHERE r.local_part = ?`,
      [localPart],
    );
    return row ?? null;
  }

  /** Whether any application registered this address, or verified its domain, as a sender. */
  async registeredAnywhere(address: string, domain: string): Promise<boolean> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM applications WHERE JSON_CONTAINS(sender_addresses, JSON_QUOTE(?)) OR JSON_CONTAINS(sender_domains_verified, JSON_QUOTE(?)) LIMIT 1`,
      [address, domain],
    );
    return rows.length > 0;
  }

  /** The alias's connection, and whether the sender is one of the user's confirmed addresses. */
  async replyRoute(alias: string, sender: string): Promise<ReplyRow | null> {
    const [row]: ReplyRow[] = await this.db.query(
      `SELECT a.connection_id, c.application_id, CAST(c.user_id AS CHAR) AS user_id, c.blocked,
              (SELECT COUNT(*) FROM user_emails e WHERE e.user_id = c.user_id AND e.email = ? AND e.confirmed_at IS NOT NULL) AS sender_ok
       FROM relay_reply_aliases a JOIN connections c ON c.id = a.connection_id
       WHERE a.alias = ?`,
      [sender, alias],
    );
    return row ?? null;
  }

  /**
   * Stores the body once and one row per accepted recipient, in one
   * transaction; enqueued_at is set in it: should the queueing fail, the
   * sweep finds the row without a job after OUTBOX_LOST_AFTER_SECONDS and
   * queues it.
   */
  async insertAll(body: { id: string; raw: Buffer } | null, rows: NewRelayMessage[]): Promise<void> {
    const placeholders = rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ');
    await this.db.transaction(async (m) => {
      if (body) await m.query(`INSERT INTO relay_message_bodies (id, raw) VALUES (?, ?)`, [body.id, body.raw]);
      await m.query(
        `INSERT INTO relay_messages (id, kind, status, application_id, connection_id, mail_from, rcpt_to, size_bytes, body_id, enqueued_at) VALUES ${placeholders}`,
        rows.flatMap((r) => [r.id, r.kind, r.status, r.applicationId, r.connectionId, r.mailFrom, r.rcptTo, r.sizeBytes, r.bodyId]),
      );
    });
  }

  async findToDeliver(messageId: string): Promise<MessageRow | null> {
    const [row]: MessageRow[] = await this.db.query(
      `SELECT m.id, m.kind, m.status, m.application_id, m.connection_id, m.mail_from, m.rcpt_to, m.body_id, COALESCE(b.raw, m.raw) AS raw, c.relay_local,
              (SELECT e.email FROM user_emails e WHERE e.user_id = c.user_id AND e.is_primary = 1 AND e.confirmed_at IS NOT NULL
               LIMIT 1) AS user_email
       FROM relay_messages m LEFT JOIN connections c ON c.id = m.connection_id
       LEFT JOIN relay_message_bodies b ON b.id = m.body_id WHERE m.id = ?`,
      [messageId],
    );
    return row ?? null;
  }

  async recordRetry(id: string, error: string): Promise<void> {
    await this.db.query(`UPDATE relay_messages SET attempts = attempts + 1, last_error = ? WHERE id = ?`, [error, id]);
  }

  /**
   * Delivered or given up. The body is deleted with the last of its
   * recipients still queued; the body row is locked first, so two siblings
   * settling at once cannot both leave it behind.
   */
  async settle(id: string, bodyId: string | null, status: 'delivered' | 'failed', error: string | null): Promise<void> {
    await this.db.transaction(async (m) => {
      if (bodyId) await m.query(`SELECT id FROM relay_message_bodies WHERE id = ? FOR UPDATE`, [bodyId]);
      await m.query(
        `UPDATE relay_messages SET status = ?, raw = NULL, attempts = attempts + 1, last_error = ?, delivered_at = IF(? = 'delivered', UTC_TIMESTAMP(3), NULL) WHERE id = ?`,
        [status, error, status, id],
      );
      if (!bodyId) return;
      const [{ n }]: { n: number | string }[] = await m.query(`SELECT COUNT(*) AS n FROM relay_messages WHERE body_id = ? AND status = 'queued'`, [bodyId]);
      if (Number(n) === 0) await m.query(`DELETE FROM relay_message_bodies WHERE id = ?`, [bodyId]);
    });
  }

  async saveReplyAlias(alias: string, connectionId: string, sender: string): Promise<void> {
    // The alias is derived from (connection, sender): made again, it counts as used.
    await this.db.query(`INSERT INTO relay_reply_aliases (alias, connection_id, sender) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE last_used_at = UTC_TIMESTAMP(3)`, [
      alias,
      connectionId,
      sender,
    ]);
  }

  /** A reply went through the alias: it stays for another retention period. */
  async touchReplyAlias(alias: string): Promise<void> {
    await this.db.query(`UPDATE relay_reply_aliases SET last_used_at = UTC_TIMESTAMP(3) WHERE alias = ?`, [alias]);
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

  /** The application's newest relay log lines (relay_messages keeps the decision, never the body). */
  async logOf(applicationId: string, limit: number): Promise<RelayLogRow[]> {
    return this.db.query(
      `SELECT id, kind, status, mail_from, rcpt_to, size_bytes, last_error, created_at FROM relay_messages
       WHERE application_id = ? ORDER BY created_at DESC, id DESC LIMIT ${Number(limit)}`,
      [applicationId],
    );
  }

  /** A refused recipient of a known application, for its log (no body is stored). */
  async insertRefusal(r: { id: string; applicationId: string; connectionId: string | null; mailFrom: string; rcptTo: string; reason: string }): Promise<void> {
    await this.db.query(
      `INSERT INTO relay_messages (id, kind, status, application_id, connection_id, mail_from, rcpt_to, size_bytes, last_error) VALUES (?, 'refused', 'refused', ?, ?, ?, ?, 0, ?)`,
      [r.id, r.applicationId, r.connectionId, r.mailFrom.slice(0, 320), r.rcptTo.slice(0, 320), r.reason.slice(0, 500)],
    );
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

  /** One batch of housekeeping: reply aliases unused for `days` (a reply to an older message then bounces). */
  async purgeUnusedReplyAliases(days: number, batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM relay_reply_aliases WHERE last_used_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`));
  }

  /**
   * One batch of housekeeping: bodies older than `days` that no queued
   * message needs (settling deletes them; this catches any left by a crash
   * between the last recipient's settle and the body's delete).
   */
  async purgeOrphanBodies(days: number, batch: number): Promise<number> {
    return affected(
      await this.db.query(
        `DELETE FROM relay_message_bodies WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY
         AND NOT EXISTS (SELECT 1 FROM relay_messages m WHERE m.body_id = relay_message_bodies.id AND m.status = 'queued') LIMIT ${Number(batch)}`,
      ),
    );
  }

  /** One batch of housekeeping: finished messages older than `days` (queued ones are still to be forwarded). */
  async purgeFinished(days: number, batch: number): Promise<number> {
    // Bodies whose recipients are all settled are deleted at settle time; none outlives its rows.
    return affected(
      await this.db.query(`DELETE FROM relay_messages WHERE status <> 'queued' AND created_at < UTC_TIMESTAMP(3) - INTERVAL ${Number(days)} DAY LIMIT ${Number(batch)}`),
    );
  }
}
