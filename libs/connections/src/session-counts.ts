import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
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
 * id ARGV[1] (a flush step: KEYS[3] moves on); empty when there is neither.
 */
const TAKE = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[2], '${BATCH_ID_FIELD}', ARGV[1])
  redis.call('INCR', KEYS[3])
end
return redis.call('HGETALL', KEYS[2])
`;

/** Deletes the batch key when it still holds batch ARGV[1] (a slower worker must not delete a newer batch); a flush step. */
const DROP = `
if redis.call('HGET', KEYS[1], '${BATCH_ID_FIELD}') == ARGV[1] then
  redis.call('INCR', KEYS[2])
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** The partition's flush state: its step counter and whether a batch is in flight. */
const STATE = `
return {redis.call('GET', KEYS[1]) or '0', redis.call('EXISTS', KEYS[2])}
`;

/** The given fields of the pending hash and of the batch key, and the flush state, read together (no flush step can fall between them). */
const PEEK = `
return {redis.call('HMGET', KEYS[1], unpack(ARGV)), redis.call('HMGET', KEYS[2], unpack(ARGV)), redis.call('GET', KEYS[3]) or '0', redis.call('EXISTS', KEYS[2])}
`;

type Scripts = {
  sessionCountRecord(pending: string, connectionId: string, at: number): Promise<number>;
  sessionCountTake(pending: string, batch: string, step: string, batchId: string): Promise<string[]>;
  sessionCountDrop(batch: string, step: string, batchId: string): Promise<number>;
  sessionCountState(step: string, batch: string): Promise<[string, number]>;
  sessionCountPeek(pending: string, batch: string, step: string, ...fields: string[]): Promise<[(string | null)[], (string | null)[], string, number]>;
};

/** A partition's flush state: `step` moves on each batch taken and each batch deleted. */
interface FlushState {
  step: string;
  batchInFlight: boolean;
}

/** Reads of MySQL + Redis retried while a flush step falls between them (then the last read is kept). */
const STABLE_READ_ATTEMPTS = 4;

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
export const flushStepKey = (partition: number) => `sess-count-step:{sc:${partition}}`;

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
    redis.defineCommand('sessionCountTake', { numberOfKeys: 3, lua: TAKE });
    redis.defineCommand('sessionCountDrop', { numberOfKeys: 2, lua: DROP });
    redis.defineCommand('sessionCountState', { numberOfKeys: 2, lua: STATE });
    redis.defineCommand('sessionCountPeek', { numberOfKeys: 3, lua: PEEK });
    this.scripts = redis as unknown as Scripts;
  }

  /** One more session of the connection at `at`; throws when Redis does (the caller counts it another way). */
  async record(connectionId: string, at: Date = new Date()): Promise<void> {
    await this.scripts.sessionCountRecord(pendingKey(sessionCountPartition(connectionId)), connectionId, at.getTime());
  }

  /**
   * A MySQL read of connections (`read`) and what is still in Redis for them,
   * consistent with each other. Read MySQL, then Redis, and a flush that
   * applies and deletes a batch in between is counted by neither (too low);
   * the other order counts it twice. So each partition's flush state is read
   * before `read` and again with the counts, and the whole read is repeated
   * (a few times, a flush step takes milliseconds) unless no batch was in
   * flight and no step was taken meanwhile. When Redis fails: the MySQL
   * figures alone. A replica's lag may still hide a batch just applied.
   */
  async readWithPending<R>(read: () => Promise<R>, idsOf: (result: R) => readonly string[]): Promise<{ result: R; pending: Map<string, PendingSessions> }> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.flushStates().catch(() => null);
      const result = await read();
      const peeked = before ? await this.peek(idsOf(result)).catch(() => null) : null;
      if (!before || !peeked) return { result, pending: new Map() };
      const settled = [...peeked.states].every(([p, after]) => !after.batchInFlight && !before[p].batchInFlight && after.step === before[p].step);
      if (settled || attempt === STABLE_READ_ATTEMPTS) return { result, pending: peeked.pending };
      await sleep(10 * attempt);
    }
  }

  /** What is still in Redis for these connections, at one instant per partition (empty when Redis fails). */
  async pending(connectionIds: readonly string[]): Promise<Map<string, PendingSessions>> {
    return (await this.peek(connectionIds).catch(() => null))?.pending ?? new Map();
  }

  /** Every partition's flush state, one script call each, sent at once (one round trip). */
  private flushStates(): Promise<FlushState[]> {
    return Promise.all(
      Array.from({ length: SESSION_COUNT_PARTITIONS }, async (_, p) => {
        const [step, batch] = await this.scripts.sessionCountState(flushStepKey(p), batchKey(p));
        return { step, batchInFlight: batch === 1 };
      }),
    );
  }

  /** Pending and in-flight counts of these connections, and the flush state of each partition touched. */
  private async peek(connectionIds: readonly string[]): Promise<{ pending: Map<string, PendingSessions>; states: Map<number, FlushState> }> {
    const pending = new Map<string, PendingSessions>();
    const states = new Map<number, FlushState>();
    const byPartition = new Map<number, string[]>();
    for (const id of new Set(connectionIds)) {
      const p = sessionCountPartition(id);
      byPartition.set(p, [...(byPartition.get(p) ?? []), id]);
    }
    await Promise.all(
      [...byPartition].map(async ([p, ids]) => {
        const fields = ids.flatMap((id) => [`n:${id}`, `t:${id}`]);
        const [waiting, batch, step, inFlight] = await this.scripts.sessionCountPeek(pendingKey(p), batchKey(p), flushStepKey(p), ...fields);
        states.set(p, { step, batchInFlight: inFlight === 1 });
        ids.forEach((id, i) => {
          const sessions = Number(waiting[2 * i] ?? 0) + Number(batch[2 * i] ?? 0);
          if (sessions === 0) return;
          const lastAt = Math.max(Number(waiting[2 * i + 1] ?? 0), Number(batch[2 * i + 1] ?? 0));
          pending.set(id, { sessions, lastAt: lastAt > 0 ? new Date(lastAt) : null });
        });
      }),
    );
    return { pending, states };
  }

  /** Step 1 of a flush: the partition's leftover batch, else its pending counts moved to a new batch; null when there is nothing. */
  async takeBatch(partition: number): Promise<SessionCountBatch | null> {
    const flat = await this.scripts.sessionCountTake(pendingKey(partition), batchKey(partition), flushStepKey(partition), randomToken(16));
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
    await this.scripts.sessionCountDrop(batchKey(partition), flushStepKey(partition), batchId);
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
