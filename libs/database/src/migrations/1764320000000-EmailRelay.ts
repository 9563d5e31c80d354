import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * The private email relay (apps/relay + the worker's relay-mail queue):
 * - each application's registered senders (JSON arrays; NULL = none);
 * - relay_messages: one row per accepted (message, recipient). The raw MIME
 *   is kept until the message is delivered or given up, then set to NULL, so
 *   the row stays as the log of the decision without the body;
 * - relay_reply_aliases: the relay form of an original sender, one per
 *   (connection, sender); the alias is an HMAC of both, so it cannot be guessed.
 */
export class EmailRelay1764320000000 implements MigrationInterface {
  name = 'EmailRelay1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications
      ADD COLUMN sender_domains TEXT NULL AFTER webhook_disabled_at,
      ADD COLUMN sender_addresses TEXT NULL AFTER sender_domains`);

    await q.query(`CREATE TABLE relay_messages (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      kind VARCHAR(16) CHARACTER SET ascii NOT NULL,
      status VARCHAR(16) CHARACTER SET ascii NOT NULL,
      application_id VARCHAR(32) CHARACTER SET ascii NULL,
      connection_id VARCHAR(32) CHARACTER SET ascii NULL,
      mail_from VARCHAR(320) NOT NULL,
      rcpt_to VARCHAR(320) NOT NULL,
      size_bytes INT UNSIGNED NOT NULL DEFAULT 0,
      raw MEDIUMBLOB NULL,
      attempts INT UNSIGNED NOT NULL DEFAULT 0,
      last_error VARCHAR(500) NULL,
      enqueued_at DATETIME(3) NULL,
      delivered_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      KEY ix_relay_messages_queue (status, enqueued_at),
      KEY ix_relay_messages_app (application_id, created_at),
      KEY ix_relay_messages_connection (connection_id, created_at)
    ) ${TABLE}`);

    await q.query(`CREATE TABLE relay_reply_aliases (
      alias CHAR(26) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      connection_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      sender VARCHAR(320) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_relay_reply_aliases_connection (connection_id),
      CONSTRAINT fk_relay_reply_aliases_connection FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS relay_reply_aliases`);
    await q.query(`DROP TABLE IF EXISTS relay_messages`);
    await q.query(`ALTER TABLE applications DROP COLUMN sender_addresses, DROP COLUMN sender_domains`);
  }
}
