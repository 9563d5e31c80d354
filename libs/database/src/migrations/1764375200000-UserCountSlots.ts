import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The per-application user counters split into slots: each change adds its
 * delta to a random one of 16 rows of the application (summed on read), so
 * concurrent sign-ups to one popular application no longer queue on (or, on
 * multi-writer clusters, deadlock over) one row. Existing counts become slot 0.
 */
export class UserCountSlots1764375200000 implements MigrationInterface {
  name = 'UserCountSlots1764375200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE application_user_counts ADD COLUMN slot TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER application_id, DROP PRIMARY KEY, ADD PRIMARY KEY (application_id, slot)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TEMPORARY TABLE user_count_totals AS
      SELECT application_id, SUM(active) AS active, SUM(inactive) AS inactive, SUM(blocked) AS blocked FROM application_user_counts GROUP BY application_id`);
    await q.query(`DELETE FROM application_user_counts`);
    await q.query(`ALTER TABLE application_user_counts DROP PRIMARY KEY, DROP COLUMN slot, ADD PRIMARY KEY (application_id)`);
    await q.query(`INSERT INTO application_user_counts (application_id, active, inactive, blocked) SELECT application_id, active, inactive, blocked FROM user_count_totals`);
    await q.query(`DROP TEMPORARY TABLE user_count_totals`);
  }
}
