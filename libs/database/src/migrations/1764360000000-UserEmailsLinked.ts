import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `user_emails.verified` meant "linked to the account" (the sign-up address,
 * or one whose emailed link was followed); the column is named for that.
 * Whether the owner confirmed the address is `confirmed_at`.
 */
export class UserEmailsLinked1764360000000 implements MigrationInterface {
  name = 'UserEmailsLinked1764360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_emails CHANGE verified linked TINYINT(1) NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE user_emails CHANGE linked verified TINYINT(1) NOT NULL DEFAULT 0`);
  }
}
