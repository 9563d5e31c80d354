import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * The developer's user list at scale (denormalised search columns, status
 * index, per-application counters) and the webhook outbox + delivery log.
 */
export class UserManagementAndWebhooks1764280000000 implements MigrationInterface {
  name = 'UserManagementAndWebhooks1764280000000';

  async up(q: QueryRunner): Promise<void> {
    // Copies of the user's Global ID and name, so searching one application's
    // connections uses that application's own indexes (no scan of users).
    await q.query(`ALTER TABLE connections
      ADD COLUMN user_global_id CHAR(6) CHARACTER SET ascii NOT NULL DEFAULT '' AFTER user_id,
      ADD COLUMN user_name VARCHAR(200) NOT NULL DEFAULT '' AFTER user_global_id`);
    await q.query(`UPDATE connections c JOIN users u ON u.id = c.user_id SET c.user_global_id = u.global_id, c.user_name = u.name`);
    await q.query(`ALTER TABLE connections
      ADD KEY ix_connections_status (application_id, blocked, active, joined_at, id),
      ADD KEY ix_connections_search_gid (application_id, user_global_id),
      ADD KEY ix_connections_search_name (application_id, user_name),
      ADD KEY ix_connections_search_email (application_id, shared_email)`);

    // Per-application counts, kept in the same transactions that change
    // connections, so `total` never needs COUNT(*) over a million rows.
    await q.query(`CREATE TABLE application_user_counts (
      application_id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      active INT NOT NULL DEFAULT 0,
      inactive INT NOT NULL DEFAULT 0,
      blocked INT NOT NULL DEFAULT 0,
      CONSTRAINT fk_user_counts_application FOREIGN KEY (application_id) REFERENCES applications (id) ON DELETE CASCADE
    ) ${TABLE}`);
    await q.query(`INSERT INTO application_user_counts (application_id, active, inactive, blocked)
      SELECT a.id,
        COALESCE(SUM(c.blocked = 0 AND c.active = 1), 0),
        COALESCE(SUM(c.blocked = 0 AND c.active = 0), 0),
        COALESCE(SUM(c.blocked = 1), 0)
      FROM applications a LEFT JOIN connections c ON c.application_id = a.id GROUP BY a.id`);

    await q.query(`ALTER TABLE applications ADD COLUMN webhook_disabled_at DATETIME(3) NULL AFTER webhook_secret_enc`);

    // The outbox: written in the transaction of the change it reports; the
    // row is also the delivery record (status, attempts, schedule).
    await q.query(`CREATE TABLE webhook_events (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      application_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      type VARCHAR(64) CHARACTER SET ascii NOT NULL,
      payload MEDIUMTEXT NOT NULL,
      status VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT 'pending',
      attempts INT UNSIGNED NOT NULL DEFAULT 0,
      last_status_code SMALLINT UNSIGNED NULL,
      last_error VARCHAR(500) NULL,
      enqueued_at DATETIME(3) NULL,
      next_attempt_at DATETIME(3) NULL,
      delivered_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      KEY ix_webhook_events_app (application_id, created_at, id),
      KEY ix_webhook_events_relay (status, enqueued_at),
      CONSTRAINT fk_webhook_events_application FOREIGN KEY (application_id) REFERENCES applications (id) ON DELETE CASCADE
    ) ${TABLE}`);

    await q.query(`CREATE TABLE webhook_attempts (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      event_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      attempt INT UNSIGNED NOT NULL,
      url VARCHAR(2048) NOT NULL,
      status_code SMALLINT UNSIGNED NULL,
      duration_ms INT UNSIGNED NOT NULL,
      error VARCHAR(500) NULL,
      response_excerpt VARCHAR(1024) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_webhook_attempts_event (event_id, id),
      KEY ix_webhook_attempts_created (created_at),
      CONSTRAINT fk_webhook_attempts_event FOREIGN KEY (event_id) REFERENCES webhook_events (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS webhook_attempts`);
    await q.query(`DROP TABLE IF EXISTS webhook_events`);
    await q.query(`ALTER TABLE applications DROP COLUMN webhook_disabled_at`);
    await q.query(`DROP TABLE IF EXISTS application_user_counts`);
    await q.query(
      `ALTER TABLE connections DROP KEY ix_connections_status, DROP KEY ix_connections_search_gid, DROP KEY ix_connections_search_name, DROP KEY ix_connections_search_email, DROP COLUMN user_global_id, DROP COLUMN user_name`,
    );
  }
}
