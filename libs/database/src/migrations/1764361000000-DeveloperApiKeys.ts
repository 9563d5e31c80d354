import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Developer API keys (`lsk_...`): only the SHA-256 of a key is stored; a
 * key is looked up by that hash. Deleting a developer deletes their keys.
 */
export class DeveloperApiKeys1764361000000 implements MigrationInterface {
  name = 'DeveloperApiKeys1764361000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE developer_api_keys (
      id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      developer_id BIGINT UNSIGNED NOT NULL,
      name VARCHAR(100) NOT NULL,
      key_hash BINARY(32) NOT NULL,
      last_used_at DATETIME(3) NULL,
      expires_at DATETIME(3) NULL,
      revoked_at DATETIME(3) NULL,
      created_at DATETIME(3) NOT NULL,
      UNIQUE KEY uq_developer_api_keys_hash (key_hash),
      KEY ix_developer_api_keys_developer (developer_id, created_at),
      CONSTRAINT fk_developer_api_keys_developer FOREIGN KEY (developer_id) REFERENCES developers (id) ON DELETE CASCADE
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE developer_api_keys`);
  }
}
