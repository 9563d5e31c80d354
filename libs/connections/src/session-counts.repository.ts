import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDuplicateKey, retryOnDeadlock } from '@app/common';

/** One connection's sessions in a batch: how many, and the latest (epoch ms). */
export interface SessionCountEntry {
  connectionId: string;
  sessions: number;
  lastAt: number;
}

/** Rows per UPDATE of a batch (the batch itself is one transaction). */
const CHUNK = 500;

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

/**
 * The SQL of the session counts written behind through Redis
 * (SessionCounts): a batch is applied to `connections` in one transaction
 * that also records its id in `session_count_batches`, whose primary key
 * refuses the same batch a second time. A plain class over the DataSource,
 * so the worker and housekeeping build it without the connections module.
 */
@Injectable()
export class SessionCountsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Adds the batch to the connections; false (nothing changed) when the batch
   * id was applied before, by this worker before a crash or by another one.
   * The id is inserted first: a second worker applying the same batch waits on
   * that key, then gets the duplicate and rolls back without touching a row.
   */
  async applyBatch(batchId: string, entries: SessionCountEntry[]): Promise<boolean> {
    try {
      await retryOnDeadlock(() =>
        this.db.transaction(async (m) => {
          await m.query(`INSERT INTO session_count_batches (id, applied_at) VALUES (?, UTC_TIMESTAMP(3))`, [batchId]);
          // Id order: two batches never share a connection (one partition each), but other transactions lock connections in id order too.
          const sorted = [...entries].sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));
          for (let offset = 0; offset < sorted.length; offset += CHUNK) {
            const chunk = sorted.slice(offset, offset + CHUNK);
            await m.query(
              `UPDATE connections c JOIN (${chunk.map(() => 'SELECT CONVERT(? USING ascii) AS id, ? AS n, CAST(? AS DATETIME(3)) AS t').join(' UNION ALL ')}) b ON c.id = b.id
               SET c.sessions = c.sessions + b.n, c.last_session_at = GREATEST(COALESCE(c.last_session_at, b.t), b.t)`,
              chunk.flatMap((e) => [e.connectionId, e.sessions, new Date(e.lastAt)]),
            );
          }
        }),
      );
      return true;
    } catch (error: unknown) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** Whether the batch was applied (its id is still kept: a day). */
  async isApplied(batchId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM session_count_batches WHERE id = ?`, [batchId]);
    return rows.length > 0;
  }

  /** One batch of housekeeping: ids of batches applied more than a day ago (a leftover batch key is re-applied within seconds). */
  async purgeAppliedBatches(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM session_count_batches WHERE applied_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY LIMIT ${Number(batch)}`));
  }
}
