import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-step sign-in: an authenticator app's TOTP secret per user (AES-256-GCM
 * with DATA_ENCRYPTION_KEY; `confirmed_at` NULL while set-up is pending;
 * `last_step` is the last accepted 30-second step, so a code is never accepted
 * twice), its single-use recovery codes (SHA-256), and the user's passkeys
 * (WebAuthn credentials: id, COSE public key, signature counter). Refresh
 * tokens keep the sign-in's `amr` (RFC 8176) next to its auth_time, so a
 * refreshed id_token reports the same methods.
 */
export class TwoStepAndPasskeys1764364000000 implements MigrationInterface {
  name = 'TwoStepAndPasskeys1764364000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_totp (
        user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        secret_enc VARCHAR(255) NOT NULL,
        confirmed_at DATETIME(3) NULL,
        last_step BIGINT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        CONSTRAINT fk_user_totp_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ENGINE=InnoDB`);
    await q.query(`
      CREATE TABLE user_recovery_codes (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        user_id BIGINT UNSIGNED NOT NULL,
        code_hash CHAR(64) NOT NULL,
        used_at DATETIME(3) NULL,
        UNIQUE KEY uq_user_recovery_codes (user_id, code_hash),
        CONSTRAINT fk_user_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ENGINE=InnoDB`);
    await q.query(`
      CREATE TABLE user_passkeys (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        user_id BIGINT UNSIGNED NOT NULL,
        credential_id VARCHAR(1400) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        credential_hash CHAR(64) NOT NULL,
        public_key VARBINARY(2048) NOT NULL,
        sign_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
        transports VARCHAR(200) NOT NULL DEFAULT '',
        attachment VARCHAR(20) NULL,
        name VARCHAR(100) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        last_used_at DATETIME(3) NULL,
        UNIQUE KEY uq_user_passkeys_credential (credential_hash),
        KEY idx_user_passkeys_user (user_id),
        CONSTRAINT fk_user_passkeys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ENGINE=InnoDB`);
    // Developers get the same two-step sign-in, in their own tables (libs/developer).
    await q.query(`
      CREATE TABLE developer_totp (
        developer_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        secret_enc VARCHAR(255) NOT NULL,
        confirmed_at DATETIME(3) NULL,
        last_step BIGINT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        CONSTRAINT fk_developer_totp_developer FOREIGN KEY (developer_id) REFERENCES developers (id) ON DELETE CASCADE
      ) ENGINE=InnoDB`);
    await q.query(`
      CREATE TABLE developer_recovery_codes (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        developer_id BIGINT UNSIGNED NOT NULL,
        code_hash CHAR(64) NOT NULL,
        used_at DATETIME(3) NULL,
        UNIQUE KEY uq_developer_recovery_codes (developer_id, code_hash),
        CONSTRAINT fk_developer_recovery_codes_developer FOREIGN KEY (developer_id) REFERENCES developers (id) ON DELETE CASCADE
      ) ENGINE=InnoDB`);
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN amr VARCHAR(64) CHARACTER SET ascii NULL AFTER auth_time`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN amr`);
    await q.query(`DROP TABLE developer_recovery_codes`);
    await q.query(`DROP TABLE developer_totp`);
    await q.query(`DROP TABLE user_passkeys`);
    await q.query(`DROP TABLE user_recovery_codes`);
    await q.query(`DROP TABLE user_totp`);
  }
}
