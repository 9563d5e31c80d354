import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** Accounts, Global IDs, developers, applications, connections, access tokens. */
export class Initial1764270000000 implements MigrationInterface {
  name = 'Initial1764270000000';

  async up(q: QueryRunner): Promise<void> {
    // One row: the next Global ID sequence number (0 .. 6,760,000).
    await q.query(`CREATE TABLE global_id_sequence (
      id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
      next_value INT UNSIGNED NOT NULL
    ) ${TABLE}`);
    await q.query(`INSERT INTO global_id_sequence (id, next_value) VALUES (1, 0)`);

    await q.query(`CREATE TABLE users (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      global_id CHAR(6) CHARACTER SET ascii NOT NULL,
      name VARCHAR(200) NOT NULL,
      image VARCHAR(2048) NULL,
      region VARCHAR(100) NOT NULL,
      password_hash VARCHAR(255) CHARACTER SET ascii NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_users_global_id (global_id)
    ) ${TABLE}`);

    // Linked addresses; the sign-up address is the first, and primary.
    await q.query(`CREATE TABLE user_emails (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      user_id BIGINT UNSIGNED NOT NULL,
      email VARCHAR(320) NOT NULL,
      verified TINYINT(1) NOT NULL DEFAULT 0,
      is_primary TINYINT(1) NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_user_emails_email (email),
      KEY ix_user_emails_user (user_id),
      CONSTRAINT fk_user_emails_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ${TABLE}`);

    await q.query(`CREATE TABLE developers (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(200) NOT NULL,
      email VARCHAR(320) NOT NULL,
      password_hash VARCHAR(255) CHARACTER SET ascii NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_developers_email (email)
    ) ${TABLE}`);

    await q.query(`CREATE TABLE applications (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      developer_id BIGINT UNSIGNED NOT NULL,
      name VARCHAR(100) NOT NULL,
      logo_url VARCHAR(2048) NULL,
      client_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
      client_secret_hash BINARY(32) NOT NULL,
      redirect_uris TEXT NOT NULL,
      webhook_url VARCHAR(2048) NULL,
      webhook_secret_enc VARCHAR(255) CHARACTER SET ascii NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_applications_client_id (client_id),
      KEY ix_applications_developer (developer_id, created_at),
      CONSTRAINT fk_applications_developer FOREIGN KEY (developer_id) REFERENCES developers (id) ON DELETE CASCADE
    ) ${TABLE}`);

    // Every relay local part ever handed out, so none is ever reused.
    await q.query(`CREATE TABLE relay_addresses (
      local_part CHAR(6) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ${TABLE}`);

    // One per (application, user): what the app sees of the user.
    await q.query(`CREATE TABLE connections (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      application_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      user_id BIGINT UNSIGNED NOT NULL,
      relay_local CHAR(6) CHARACTER SET ascii NOT NULL,
      shared_email VARCHAR(320) NULL,
      scope VARCHAR(255) CHARACTER SET ascii NOT NULL,
      is_forwarding TINYINT(1) NOT NULL DEFAULT 1,
      email_muted TINYINT(1) NOT NULL DEFAULT 0,
      blocked TINYINT(1) NOT NULL DEFAULT 0,
      active TINYINT(1) NOT NULL DEFAULT 1,
      sessions INT UNSIGNED NOT NULL DEFAULT 0,
      last_session_at DATETIME(3) NULL,
      joined_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_connections_app_user (application_id, user_id),
      UNIQUE KEY uq_connections_relay (relay_local),
      KEY ix_connections_list (application_id, joined_at, id),
      KEY ix_connections_user (user_id),
      CONSTRAINT fk_connections_application FOREIGN KEY (application_id) REFERENCES applications (id) ON DELETE CASCADE,
      CONSTRAINT fk_connections_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ${TABLE}`);

    // Issued access tokens (JWT ids), so a token can be revoked before it expires.
    await q.query(`CREATE TABLE access_tokens (
      id CHAR(22) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      connection_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      grant_id CHAR(22) CHARACTER SET ascii NOT NULL,
      scope VARCHAR(255) CHARACTER SET ascii NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      revoked TINYINT(1) NOT NULL DEFAULT 0,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      KEY ix_access_tokens_connection (connection_id),
      KEY ix_access_tokens_grant (grant_id),
      KEY ix_access_tokens_expiry (expires_at),
      CONSTRAINT fk_access_tokens_connection FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['access_tokens', 'connections', 'relay_addresses', 'applications', 'developers', 'user_emails', 'users', 'global_id_sequence']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
