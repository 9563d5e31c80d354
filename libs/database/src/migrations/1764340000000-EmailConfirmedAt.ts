import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `user_emails.verified` means "linked" (the sign-up address is linked from
 * the start); `confirmed_at` records that the owner followed an emailed link,
 * which is what OpenID Connect's `email_verified` must report.
 */
export class EmailConfirmedAt1764340000000 implements MigrationInterface {
  name = 'EmailConfirmedAt1764340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_emails ADD COLUMN confirmed_at DATETIME(3) NULL AFTER verified`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_emails DROP COLUMN confirmed_at`);
  }
}
