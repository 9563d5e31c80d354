import { DataSource } from 'typeorm';

/** One partition of the sequence: it hands out [next_value, end) and then is used up. */
export interface SequencePartition {
  id: number;
  end: number;
}

/** The SQL of `global_id_sequence` (one row per partition, typed raw SQL). */
export class GlobalIdSequenceRepository {
  constructor(private readonly db: DataSource) {}

  /** The partitions and where each ends (fixed by the migration). */
  async partitions(): Promise<SequencePartition[]> {
    const rows: { id: number; end_value: number | string }[] = await this.db.query('SELECT id, end_value FROM global_id_sequence ORDER BY id');
    if (rows.length === 0) throw new Error('global_id_sequence has no rows: run the migrations');
    return rows.map((r) => ({ id: Number(r.id), end: Number(r.end_value) }));
  }

  /**
   * Takes the next block of at most `size` numbers of one partition in one
   * statement (no SELECT ... FOR UPDATE: the row is locked only for the
   * UPDATE itself): LAST_INSERT_ID(expr) hands the old position back in the
   * OK packet. Returns where the block starts, or null when the partition is
   * used up.
   */
  async takeBlock(partition: number, size: number): Promise<number | null> {
    const result: { affectedRows: number; insertId: number | string } = await this.db.query(
      'UPDATE global_id_sequence SET next_value = LAST_INSERT_ID(next_value) + LEAST(?, end_value - next_value) WHERE id = ? AND next_value < end_value',
      [size, partition],
    );
    return result.affectedRows === 1 ? Number(result.insertId) : null;
  }
}
