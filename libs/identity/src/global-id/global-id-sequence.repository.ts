import { DataSource } from 'typeorm';

/** The SQL of `global_id_sequence` (one row, typed raw SQL). */
export class GlobalIdSequenceRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Reserves the next block of at most `size` sequence numbers below `space`
   * under the row lock, so two processes never get the same block; returns
   * [from, to) (empty when the space is used up).
   */
  async reserveBlock(size: number, space: number): Promise<[number, number]> {
    return this.db.transaction(async (manager) => {
      const rows: { next_value: number | string }[] = await manager.query('SELECT next_value FROM global_id_sequence WHERE id = 1 FOR UPDATE');
      if (rows.length === 0) throw new Error('global_id_sequence has no row 1: run the migrations');
      const from = Number(rows[0].next_value);
      const to = Math.min(from + size, space);
      if (to > from) await manager.query('UPDATE global_id_sequence SET next_value = ? WHERE id = 1', [to]);
      return [from, to];
    });
  }
}
