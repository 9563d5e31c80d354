import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a relay reply alias was last used (made again for a new message, or
 * replied through), so housekeeping can drop the ones unused for
 * RELAY_REPLY_ALIAS_RETENTION_DAYS. Existing aliases count as used now.
 */
export class ReplyAliasLastUse1764376000000 implements MigrationInterface {
  name = 'ReplyAliasLastUse1764376000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE relay_reply_aliases ADD COLUMN last_used_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), ADD KEY ix_relay_reply_aliases_last_used (last_used_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE relay_reply_aliases DROP KEY ix_relay_reply_aliases_last_used, DROP COLUMN last_used_at`);
  }
}
