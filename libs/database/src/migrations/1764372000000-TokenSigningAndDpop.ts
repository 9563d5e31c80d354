import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-application id_token algorithm (RS256 or ES256) and DPoP-bound refresh token families. */
export class TokenSigningAndDpop1764372000000 implements MigrationInterface {
  name = 'TokenSigningAndDpop1764372000000';

  async up(q: QueryRunner): Promise<void> {
    // New applications default to RS256; the existing ones keep the ES256
    // id_tokens their relying parties have been validating so far.
    await q.query(`ALTER TABLE applications ADD COLUMN id_token_signing_alg VARCHAR(5) CHARACTER SET ascii NOT NULL DEFAULT 'ES256'`);
    await q.query(`ALTER TABLE applications ALTER COLUMN id_token_signing_alg SET DEFAULT 'RS256'`);
    // The RFC 7638 SHA-256 thumbprint (43 base64url characters) of a public client's DPoP key.
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt CHAR(43) CHARACTER SET ascii NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN dpop_jkt`);
    await q.query(`ALTER TABLE applications DROP COLUMN id_token_signing_alg`);
  }
}
