import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Application types (RFC 8252 / OAuth 2.0 for Browser-Based Apps): `web` is
 * confidential, `spa` and `native` are public clients without a secret
 * (client_secret_hash NULL). Post-logout redirect URIs are a list of their own.
 */
export class ClientTypes1764370000000 implements MigrationInterface {
  name = 'ClientTypes1764370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications
      ADD COLUMN type ENUM('web', 'spa', 'native') CHARACTER SET ascii NOT NULL DEFAULT 'web' AFTER name,
      ADD COLUMN post_logout_redirect_uris TEXT NULL AFTER redirect_uris,
      MODIFY client_secret_hash BINARY(32) NULL,
      ADD KEY ix_applications_type (type)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM applications WHERE client_secret_hash IS NULL`);
    await q.query(`ALTER TABLE applications DROP KEY ix_applications_type, DROP COLUMN type, DROP COLUMN post_logout_redirect_uris, MODIFY client_secret_hash BINARY(32) NOT NULL`);
  }
}
