import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * The raw message is stored once per SMTP transaction (relay_message_bodies),
 * however many recipients it has; each relay_messages row points at it and
 * the body is deleted once no recipient of it is still queued. Sender
 * domains are used only once verified by DNS (applications.sender_domains_verified).
 */
export class RelayBodies1764365000000 implements MigrationInterface {
  name = 'RelayBodies1764365000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE relay_message_bodies (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      raw MEDIUMBLOB NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ${TABLE}`);
    // The senderDomains whose _loginsign TXT record was found (JSON array); only these are used.
    await q.query(`ALTER TABLE applications ADD COLUMN sender_domains_verified TEXT NULL AFTER sender_addresses`);
    // Aliases made before this release may point at a From or Reply-To an attacker chose: they go
    // (a reply to an older message then bounces; the next forwarded message makes a new alias).
    await q.query(`DELETE FROM relay_reply_aliases`);
    await q.query(`ALTER TABLE relay_messages ADD COLUMN body_id VARCHAR(32) CHARACTER SET ascii NULL AFTER size_bytes, ADD KEY ix_relay_messages_body (body_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE relay_messages DROP KEY ix_relay_messages_body, DROP COLUMN body_id`);
    await q.query(`DROP TABLE IF EXISTS relay_message_bodies`);
    await q.query(`ALTER TABLE applications DROP COLUMN sender_domains_verified`);
  }
}
