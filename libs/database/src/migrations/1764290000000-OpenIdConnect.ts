import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** OpenID Connect: id_token signing keys and rotating refresh tokens. */
export class OpenIdConnect1764290000000 implements MigrationInterface {
  name = 'OpenIdConnect1764290000000';

  async up(q: QueryRunner): Promise<void> {
    // The active key is the newest row with rotated_at NULL; a rotated key stays
    // published (JWKS) until every id_token it signed has expired, then is deleted.
    // The private key is AES-256-GCM encrypted with DATA_ENCRYPTION_KEY.
    await q.query(`CREATE TABLE signing_keys (
      kid CHAR(22) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      alg VARCHAR(10) CHARACTER SET ascii NOT NULL,
      public_jwk TEXT NOT NULL,
      private_key_enc TEXT CHARACTER SET ascii NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      rotated_at DATETIME(3) NULL,
      KEY ix_signing_keys_rotated (rotated_at, created_at)
    ) ${TABLE}`);

    // One row per refresh token ever issued (SHA-256 of the token, never the token).
    // family_id is the grant id of the authorization code the family started from,
    // which is also access_tokens.grant_id of every access token of the family.
    await q.query(`CREATE TABLE refresh_tokens (
      id CHAR(22) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      token_hash BINARY(32) NOT NULL,
      family_id CHAR(22) CHARACTER SET ascii NOT NULL,
      connection_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      application_id VARCHAR(32) CHARACTER SET ascii NOT NULL,
      scope VARCHAR(255) CHARACTER SET ascii NOT NULL,
      auth_time INT UNSIGNED NOT NULL,
      used TINYINT(1) NOT NULL DEFAULT 0,
      revoked TINYINT(1) NOT NULL DEFAULT 0,
      family_expires_at DATETIME(3) NOT NULL,
      created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      used_at DATETIME(3) NULL,
      UNIQUE KEY uq_refresh_tokens_hash (token_hash),
      KEY ix_refresh_tokens_family (family_id),
      KEY ix_refresh_tokens_connection (connection_id),
      KEY ix_refresh_tokens_expiry (family_expires_at),
      CONSTRAINT fk_refresh_tokens_connection FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS refresh_tokens`);
    await q.query(`DROP TABLE IF EXISTS signing_keys`);
  }
}
