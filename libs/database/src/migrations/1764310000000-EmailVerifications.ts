import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * Addresses a user asked to link, until their emailed link is followed.
 * Pending addresses live here, not in user_emails: they are not linked, so
 * they can neither be used to sign in nor block anybody else from signing up
 * with (or linking) that address. The link's token is stored as its SHA-256.
 */
export class EmailVerifications1764310000000 implements MigrationInterface {
  name = 'EmailVerifications1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE email_verifications (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      user_id BIGINT UNSIGNED NOT NULL,
      email VARCHAR(320) NOT NULL,
      token_hash BINARY(32) NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      used_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      UNIQUE KEY uq_email_verifications_token (token_hash),
      KEY ix_email_verifications_user (user_id, email),
      KEY ix_email_verifications_expiry (expires_at),
      CONSTRAINT fk_email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS email_verifications`);
  }
}
