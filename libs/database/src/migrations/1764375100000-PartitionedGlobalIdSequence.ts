import { MigrationInterface, QueryRunner } from 'typeorm';

/** 26 * 26 * 10000: every `XX1234` Global User ID. */
const SPACE = 6_760_000;
const PARTITIONS = 16;

/**
 * Global ID sequence numbers come from 16 partitions instead of one row that
 * every sign-up locked: each row owns [next_value, end_value) of the space, a
 * process takes a block from a random row in one UPDATE (no SELECT ... FOR
 * UPDATE). The numbers not issued yet, [next_value of row 1, SPACE), are split
 * among the partitions, so no issued number is handed out again.
 */
export class PartitionedGlobalIdSequence1764375100000 implements MigrationInterface {
  name = 'PartitionedGlobalIdSequence1764375100000';

  async up(q: QueryRunner): Promise<void> {
    const [row] = (await q.query(`SELECT next_value FROM global_id_sequence WHERE id = 1 FOR UPDATE`)) as { next_value: number | string }[];
    const from = Math.min(SPACE, Number(row?.next_value ?? 0));
    await q.query(`ALTER TABLE global_id_sequence ADD COLUMN end_value INT UNSIGNED NOT NULL DEFAULT ${SPACE}`);
    const size = Math.floor((SPACE - from) / PARTITIONS);
    const rows = Array.from({ length: PARTITIONS }, (_, k) => {
      const start = from + k * size;
      return [k + 1, start, k === PARTITIONS - 1 ? SPACE : start + size];
    });
    await q.query(`DELETE FROM global_id_sequence`);
    await q.query(`INSERT INTO global_id_sequence (id, next_value, end_value) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flat());
  }

  async down(q: QueryRunner): Promise<void> {
    // One row again, past every number any partition handed out: the last
    // partition's position is above all the others' ranges (their unused rest is skipped).
    const [row] = (await q.query(`SELECT MAX(next_value) AS high FROM global_id_sequence`)) as { high: number | string }[];
    await q.query(`DELETE FROM global_id_sequence`);
    await q.query(`ALTER TABLE global_id_sequence DROP COLUMN end_value`);
    await q.query(`INSERT INTO global_id_sequence (id, next_value) VALUES (1, ?)`, [Number(row.high)]);
  }
}
