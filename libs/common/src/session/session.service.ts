import { Inject, Injectable } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '../redis/redis.module';
import { isCluster } from '../redis/redis-client';
import { randomToken, sha256Hex } from '../crypto';

/** Who a session belongs to: an end user or a developer (separate cookies). */
export type SessionKind = 'user' | 'developer';

export interface Session {
  /** The raw id, as in the cookie (never stored: Redis holds its SHA-256). */
  id: string;
  kind: SessionKind;
  subjectId: number;
  createdAt: number;
  /** Seconds since epoch when the user last entered their password (OIDC auth_time). */
  authTime: number;
  /** Seconds since epoch of the last request seen (updated at most once a minute). */
  lastSeenAt: number;
  /** Client IP and User-Agent at sign-in (shown in the session list). */
  ip: string;
  userAgent: string;
  /** How the user signed in (RFC 8176 `amr` values, e.g. `pwd`, `otp`, `mfa`, `hwk`, `swk`, `user`); id_tokens report it. */
  amr?: string[];
}

/** Where a session was started, as the session list shows it. */
export interface SessionOrigin {
  ip: string;
  userAgent: string;
}

/** One active session in the account's list; `handle` names it for "Sign out" (never the cookie value). */
export interface ActiveSession {
  handle: string;
  current: boolean;
  createdAt: number;
  lastSeenAt: number;
  ip: string;
  userAgent: string;
}

type Stored = Omit<Session, 'id'>;

/** Longest User-Agent kept with a session. */
const USER_AGENT_MAX = 512;

/** A session handle is the SHA-256 of its id: 64 hex characters. */
const HANDLE = /^[0-9a-f]{64}$/;

/**
 * Server-side sessions in Redis. The key is the SHA-256 of the cookie value,
 * so a Redis dump yields no usable cookie. A per-subject set indexes the
 * sessions of an account (list, sign out one or all); ids of sessions that
 * ended on their own are pruned from it whenever it is read or grows.
 * A session ends SESSION_TTL_SECONDS after sign-in, or SESSION_IDLE_SECONDS
 * after its last use, whichever comes first.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // A session and its subject's index are separate hash tags (a session is
  // found by its cookie alone, so it cannot carry its user's tag): no command
  // touches both at once. A new session is stored before it is indexed (a
  // concurrent prune never sees an index entry whose session is still being
  // written); if indexing fails, the request fails and the cookie is never
  // sent, so the unindexed session is unreachable. Removals go session first,
  // so a failure leaves only an index entry without a session (pruned later).
  private key(hash: string) {
    return `sess:{${hash}}`;
  }

  private indexKey(kind: SessionKind, subjectId: number) {
    return `sess-of:{${kind}:${subjectId}}`;
  }

  /** Ends the session, then drops it from its subject's index; true when the session was live. */
  private async remove(hash: string, index: string): Promise<boolean> {
    const removed = await this.redis.del(this.key(hash));
    await this.redis.srem(index, hash);
    return removed === 1;
  }

  /** Seconds the stored session may live from `now`: the idle timeout, capped by the absolute lifetime. */
  private ttlFrom(createdAt: number, now: number): number {
    return Math.max(1, Math.min(this.config.sessionIdleSeconds, createdAt + this.config.sessionTtlSeconds - now));
  }

  /** How often lastSeenAt is written: once a minute, more often only when the idle timeout is shorter than two minutes. */
  private touchEverySeconds(): number {
    return Math.max(0, Math.min(60, Math.floor(this.config.sessionIdleSeconds / 2)));
  }

  /** `amr`: how the user signed in (RFC 8176), which id_tokens report. */
  async create(kind: SessionKind, subjectId: number, origin: SessionOrigin = { ip: '', userAgent: '' }, amr?: string[]): Promise<Session> {
    const now = Math.floor(Date.now() / 1000);
    const stored: Stored = {
      kind,
      subjectId,
      createdAt: now,
      authTime: now,
      lastSeenAt: now,
      ip: origin.ip.slice(0, 64),
      userAgent: origin.userAgent.slice(0, USER_AGENT_MAX),
      ...(amr ? { amr } : {}),
    };
    const id = randomToken();
    const hash = sha256Hex(id);
    const index = this.indexKey(kind, subjectId);
    await this.prune(index);
    await this.redis.set(this.key(hash), JSON.stringify(stored), 'EX', this.ttlFrom(now, now));
    await this.redis.multi().sadd(index, hash).expire(index, this.config.sessionTtlSeconds).exec();
    return { id, ...stored };
  }

  /** The live session of this cookie value, or null (unknown, other kind, expired or idle too long). */
  async get(id: string | undefined, kind: SessionKind): Promise<Session | null> {
    if (!id || id.length > 100) return null;
    const hash = sha256Hex(id);
    const raw = await this.redis.get(this.key(hash));
    if (!raw) return null;
    const data = JSON.parse(raw) as Stored;
    if (data.kind !== kind) return null;
    const now = Math.floor(Date.now() / 1000);
    // Sessions stored before idle tracking count as used at sign-in.
    data.lastSeenAt ??= data.createdAt;
    data.ip ??= '';
    data.userAgent ??= '';
    if (now - data.lastSeenAt >= this.config.sessionIdleSeconds) {
      await this.remove(hash, this.indexKey(kind, data.subjectId));
      return null;
    }
    if (now - data.lastSeenAt >= this.touchEverySeconds()) {
      data.lastSeenAt = now;
      // XX: a session signed out meanwhile stays gone.
      await this.redis.set(this.key(hash), JSON.stringify(data), 'EX', this.ttlFrom(data.createdAt, now), 'XX');
    }
    return { id, ...data };
  }

  async destroy(session: Pick<Session, 'id' | 'kind' | 'subjectId'>): Promise<void> {
    const hash = sha256Hex(session.id);
    await this.remove(hash, this.indexKey(session.kind, session.subjectId));
  }

  /** Signs out every session of a subject, except (optionally) the current one. */
  async destroyAll(kind: SessionKind, subjectId: number, exceptId?: string): Promise<void> {
    const index = this.indexKey(kind, subjectId);
    const keep = exceptId ? sha256Hex(exceptId) : null;
    const hashes = (await this.redis.smembers(index)).filter((h) => h !== keep);
    if (hashes.length === 0) return;
    // One DEL per session: each is its own slot on a Cluster.
    await Promise.all(hashes.map((h) => this.redis.del(this.key(h))));
    await this.redis.srem(index, ...hashes);
  }

  /**
   * Signs out one session of this subject by its handle (from `list`). False
   * when the handle names no live session of this subject (another account's
   * handle included).
   */
  async destroyByHandle(kind: SessionKind, subjectId: number, handle: string): Promise<boolean> {
    if (!HANDLE.test(handle)) return false;
    const index = this.indexKey(kind, subjectId);
    if (!(await this.redis.sismember(index, handle))) return false;
    return this.remove(handle, index);
  }

  /** The subject's live sessions, most recently used first; `current` marks the session `currentId`. */
  async list(kind: SessionKind, subjectId: number, currentId?: string): Promise<ActiveSession[]> {
    const index = this.indexKey(kind, subjectId);
    const { live } = await this.prune(index);
    const now = Math.floor(Date.now() / 1000);
    const current = currentId ? sha256Hex(currentId) : null;
    const sessions: ActiveSession[] = [];
    for (const [hash, data] of live) {
      if (data.kind !== kind || data.subjectId !== subjectId) continue;
      const lastSeenAt = data.lastSeenAt ?? data.createdAt;
      if (now - lastSeenAt >= this.config.sessionIdleSeconds) continue;
      sessions.push({ handle: hash, current: hash === current, createdAt: data.createdAt, lastSeenAt, ip: data.ip ?? '', userAgent: data.userAgent ?? '' });
    }
    return sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt - a.lastSeenAt);
  }

  /**
   * Housekeeping: prunes every subject's index (ids of sessions that ended on
   * their own), walking the keys with SCAN (never KEYS) `count` at a time;
   * returns how many ids went. An index left empty is deleted by Redis.
   */
  async pruneAllIndexes(count = 1000): Promise<number> {
    // SCAN patterns and the keys it returns are not prefixed by ioredis.
    const prefix = `${this.config.redisPrefix}:`;
    let removed = 0;
    // SCAN walks one node: on a Cluster, every master holds a share of the indexes.
    const nodes = isCluster(this.redis) ? (this.redis as unknown as Cluster).nodes('master') : [this.redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}sess-of:*`, 'COUNT', count);
        for (const key of keys) removed += (await this.prune(key.slice(prefix.length))).ended;
        cursor = next;
      } while (cursor !== '0');
    }
    return removed;
  }

  /** Removes ids of ended sessions from the index; returns the live ones with their data. */
  private async prune(index: string): Promise<{ live: Map<string, Stored>; ended: number }> {
    const hashes = await this.redis.smembers(index);
    const live = new Map<string, Stored>();
    if (hashes.length === 0) return { live, ended: 0 };
    // One GET per session, sent at once: an MGET would cross slots on a Cluster.
    const values = await Promise.all(hashes.map((h) => this.redis.get(this.key(h))));
    const ended: string[] = [];
    hashes.forEach((hash, i) => {
      const raw = values[i];
      if (raw) live.set(hash, JSON.parse(raw) as Stored);
      else ended.push(hash);
    });
    if (ended.length > 0) await this.redis.srem(index, ...ended);
    return { live, ended: ended.length };
  }
}
