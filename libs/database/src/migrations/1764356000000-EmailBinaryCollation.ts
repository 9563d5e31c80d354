import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Addresses are stored in their normal form (trimmed, NFC, lower-cased) and
 * compared byte for byte: under utf8mb4_unicode_ci, controls and format
 * characters (NUL, U+200B...) are ignored, so spellings that sign-up refuses
 * matched an account at login.
 */
const COLUMNS: [string, string, 'NULL' | 'NOT NULL'][] = [
  ['user_emails', 'email', 'NOT NULL'],
  ['developers', 'email', 'NOT NULL'],
  ['email_verifications', 'email', 'NOT NULL'],
  // The address an application sees, compared with user_emails.email.
  ['connections', 'shared_email', 'NULL'],
];

export class EmailBinaryCollation1764356000000 implements MigrationInterface {
  name = 'EmailBinaryCollation1764356000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, column, nullable] of COLUMNS) {
      await q.query(`ALTER TABLE ${table} MODIFY ${column} VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin ${nullable}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, column, nullable] of COLUMNS) {
      await q.query(`ALTER TABLE ${table} MODIFY ${column} VARCHAR(320) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci ${nullable}`);
    }
  }
}
