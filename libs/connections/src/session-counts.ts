import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomToken, REDIS } from '@app/common';
import { SessionCountEntry, SessionCountsRepository } from './session-counts.repository';

/** Partitions of the pending counts: each flush moves and applies one partition at a time. */
export const SESSION_COUNT_PARTITIONS = 16;

/** The field of a batch hash that holds its id (connection fields are `n:<id>` and `t:<id>`). */
const BATCH_ID_FIELD = '#id';

/** +1 session of ARGV[1] at ARGV[2] (epoch ms): the count and the latest time, in one step. */
const RECORD = `
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[1], 1)
local t = tonumber(redis.call('HGET', KEYS[1], 't:' .. ARGV[1]) or '0')
if tonumber(ARGV[2]) > t then redis.call('HSET', KEYS[1], 't:' .. ARGV[1], ARGV[2]) end
return 1
`;

/**
 * The partition's batch: the one left over (not yet deleted, maybe not yet
 * applied), else the pending counts renamed to the batch key and given the
 * id ARGV[1]; empty when there is neither.
 */
const TAKE = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[2], '${BATCH_ID_FIELD}', ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
`;

/** Deletes the batch key when it still holds batch ARGV[1] (a slower worker must not delete a newer batch). */
const DROP = `
if redis.call('HGET', KEYS[1], '${BATCH_ID_FIELD}') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** The given fields of the pending hash and of the batch key, read together (no flush step can fall between them). */
const PEEK = `
return {redis.call('HMGET', KEYS[1], unpack(ARGV)), redis.call('HMGET', KEYS[2], unpack(ARGV))}
`;

type Scripts = {
  sessionCountRecord(pending: string, connectionId: string, at: number): Promise<number>;
  sessionCountTake(pending: string, batch: string, batchId: string): Promise<string[]>;
  sessionCountDrop(batch: string, batchId: string): Promise<number>;
  sessionCountPeek(pending: string, batch: string, ...fields: string[]): Promise<[(string | null)[], (string | null)[]]>;
};

/** Sessions not yet in MySQL of one connection. */
export interface PendingSessions {
  sessions: number;
  lastAt: Date | null;
}

/** A batch taken from Redis, to be applied to MySQL. */
export interface SessionCountBatch {
  id: string;
  entries: SessionCountEntry[];
}

/** The partition of a connection (FNV-1a of its id). */
export function sessionCountPartition(connectionId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < connectionId.length; i++) hash = Math.imul(hash ^ connectionId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SESSION_COUNT_PARTITIONS;
}

/** Both keys of a partition share its hash tag: the scripts touch them together, also on a Redis Cluster. */
export const pendingKey = (partition: number) => `sess-count:{sc:${partition}}`;
export const batchKey = (partition: number) => `sess-count-batch:{sc:${partition}}`;

/** Adds what is pending to a figure read from MySQL. */
export function withPending<T extends { sessions: number; lastAt: Date | null }>(row: T, pending: PendingSessions | undefined): T {
  if (!pending) return row;
  const lastAt = pending.lastAt && (!row.lastAt || pending.lastAt > row.lastAt) ? pending.lastAt : row.lastAt;
  return { ...row, sessions: row.sessions + pending.sessions, lastAt };
}

/**
 * Session counts of connections (`connections.sessions`, `last_session_at`),
 * written behind: a code exchange adds "+1 at T" to the connection's
 * partition hash in Redis (one script call), and the worker's flusher moves
 * each partition's hash to its batch key and applies it to MySQL in one
 * transaction that also records the batch id (SessionCountsRepository), then
 * deletes the key. A crash between any two steps leaves the batch key, which
 * the next round applies again; the recorded id makes that a no-op when the
 * first attempt had committed. Readers add what is still in Redis (`pending`).
 */
@Injectable()
export class SessionCounts {
  private readonly scripts: Scripts;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly repository: SessionCountsRepository,
  ) {
    redis.defineCommand('sessionCountRecord', { numberOfKeys: 1, lua: RECORD });
    redis.defineCommand('sessionCountTake', { numberOfKeys: 2, lua: TAKE });
    redis.defineCommand('sessionCountDrop', { numberOfKeys: 1, lua: DROP });
    redis.defineCommand('sessionCountPeek', { numberOfKeys: 2, lua: PEEK });
    this.scripts = redis as unknown as Scripts;
  }

  /** One more session of the connection at `at`; throws when Redis does (the caller counts it another way). */
  async record(connectionId: string, at: Date = new Date()): Promise<void> {
    await this.scripts.sessionCountRecord(pendingKey(sessionCountPartition(connectionId)), connectionId, at.getTime());
  }

  /**
   * What is still in Redis for these connections (pending, and a batch not yet
   * deleted), one script call per partition touched, all sent at once (one
   * round trip). A batch applied to MySQL but not yet deleted is counted twice
   * for that instant (and a replica's lag may hide a batch just applied): the
   * figures are exact whenever no flush is in flight. Empty when Redis fails:
   * the page shows the MySQL figures.
   */
  async pending(connectionIds: readonly string[]): Promise<Map<string, PendingSessions>> {
    const found = new Map<string, PendingSessions>();
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(connectionIds)) {
      const p = sessionCountPartition(id);
      byPartition.set(p, [...(byPartition.get(p) ?? []), id]);
    }
    try {
      await Promise.all(
        [...byPartition].map(async ([p, ids]) => {
          const fields = ids.flatMap((id) => [`n:${id}`, `t:${id}`]);
          const [pending, batch] = await this.scripts.sessionCountPeek(pendingKey(p), batchKey(p), ...fields);
          ids.forEach((id, i) => {
            const sessions = Number(pending[2 * i] ?? 0) + Number(batch[2 * i] ?? 0);
            if (sessions === 0) return;
            const lastAt = Math.max(Number(pending[2 * i + 1] ?? 0), Number(batch[2 * i + 1] ?? 0));
            found.set(id, { sessions, lastAt: lastAt > 0 ? new Date(lastAt) : null });
          });
        }),
      );
    } catch {
      return new Map();
    }
    return found;
  }

  /** Step 1 of a flush: the partition's leftover batch, else its pending counts moved to a new batch; null when there is nothing. */
  async takeBatch(partition: number): Promise<SessionCountBatch | null> {
    const flat = await this.scripts.sessionCountTake(pendingKey(partition), batchKey(partition), randomToken(16));
    if (flat.length === 0) return null;
    let id = '';
    const byConnection = new Map<string, SessionCountEntry>();
    const entry = (connectionId: string) => {
      let e = byConnection.get(connectionId);
      if (!e) byConnection.set(connectionId, (e = { connectionId, sessions: 0, lastAt: 0 }));
      return e;
    };
    for (let i = 0; i < flat.length; i += 2) {
      const [field, value] = [flat[i], flat[i + 1]];
      if (field === BATCH_ID_FIELD) id = value;
      else if (field.startsWith('n:')) entry(field.slice(2)).sessions = Number(value);
      else if (field.startsWith('t:')) entry(field.slice(2)).lastAt = Number(value);
    }
    return { id, entries: [...byConnection.values()].filter((e) => e.sessions > 0) };
  }

  /** Step 2: the batch added to MySQL, once (false: it had been applied already). */
  applyBatch(batch: SessionCountBatch): Promise<boolean> {
    return this.repository.applyBatch(batch.id, batch.entries);
  }

  /** Step 3: the batch key deleted (only while it still holds this batch). */
  async dropBatch(partition: number, batchId: string): Promise<void> {
    await this.scripts.sessionCountDrop(batchKey(partition), batchId);
  }

  /**
   * One partition flushed: its leftover batch first (re-applied, or only deleted
   * when MySQL has it), then the counts pending now. Returns the sessions applied.
   */
  async flushPartition(partition: number): Promise<number> {
    let applied = 0;
    // At most a leftover and a fresh batch per round; later counts wait for the next round.
    for (let round = 0; round < 2; round++) {
      const batch = await this.takeBatch(partition);
      if (!batch) break;
      if (await this.applyBatch(batch)) applied += batch.entries.reduce((n, e) => n + e.sessions, 0);
      await this.dropBatch(partition, batch.id);
    }
    return applied;
  }

  /** Every partition flushed once (see flushPartition); the sessions applied. */
  async flushAll(): Promise<number> {
    let applied = 0;
    for (let p = 0; p < SESSION_COUNT_PARTITIONS; p++) applied += await this.flushPartition(p);
    return applied;
  }
}
