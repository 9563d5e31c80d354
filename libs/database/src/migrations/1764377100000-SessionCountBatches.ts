import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session counts are written behind through Redis (docs/scaling.md, "Session
 * counts"): a flusher applies one batch of pending counts per transaction and
 * records the batch id here in the same transaction, so a batch re-applied
 * after a crash (or by a second worker) is refused by the primary key instead
 * of counted twice. Housekeeping drops ids older than a day.
 */
export class SessionCountBatches1764377100000 implements MigrationInterface {
  name = 'SessionCountBatches1764377100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE session_count_batches (
        id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        applied_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY ix_session_count_batches_applied (applied_at)
      ) ENGINE=InnoDB`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_count_batches`);
  }
}
