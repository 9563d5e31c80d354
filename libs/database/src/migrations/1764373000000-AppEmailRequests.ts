import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/**
 * An address a developer asks to see is shared only once the user allows it:
 * one pending request per connection (a newer one replaces it), gone with the
 * connection. `email_withheld` remembers that the user chose "Don't share",
 * so the developer cannot switch such a connection to the relay address
 * either without asking; connections sharing nothing today count as withheld
 * (who chose it is not known).
 */
export class AppEmailRequests1764373000000 implements MigrationInterface {
  name = 'AppEmailRequests1764373000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN email_withheld TINYINT(1) NOT NULL DEFAULT 0 AFTER shared_email`);
    await q.query(`UPDATE connections SET email_withheld = 1 WHERE shared_email IS NULL`);
    await q.query(`CREATE TABLE connection_email_requests (
      connection_id VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY,
      email VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      requested_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      CONSTRAINT fk_connection_email_requests_connection FOREIGN KEY (connection_id) REFERENCES connections (id) ON DELETE CASCADE
    ) ${TABLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS connection_email_requests`);
    await q.query(`ALTER TABLE connections DROP COLUMN email_withheld`);
  }
}
