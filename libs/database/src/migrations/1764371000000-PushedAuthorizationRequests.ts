import { MigrationInterface, QueryRunner } from 'typeorm';

/** An application may refuse authorization requests that were not pushed first (RFC 9126 6). */
export class PushedAuthorizationRequests1764371000000 implements MigrationInterface {
  name = 'PushedAuthorizationRequests1764371000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications ADD COLUMN require_pushed_authorization_requests TINYINT(1) NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications DROP COLUMN require_pushed_authorization_requests`);
  }
}
