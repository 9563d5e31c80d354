import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '../redis/redis.module';
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

  private key(hash: string) {
    return `sess:${hash}`;
  }

  private indexKey(kind: SessionKind, subjectId: number) {
    return `sess-of:${kind}:${subjectId}`;
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
    await this.redis.multi().set(this.key(hash), JSON.stringify(stored), 'EX', this.ttlFrom(now, now)).sadd(index, hash).expire(index, this.config.sessionTtlSeconds).exec();
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
      await this.redis.multi().del(this.key(hash)).srem(this.indexKey(kind, data.subjectId), hash).exec();
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
    await this.redis.multi().del(this.key(hash)).srem(this.indexKey(session.kind, session.subjectId), hash).exec();
  }

  /** Signs out every session of a subject, except (optionally) the current one. */
  async destroyAll(kind: SessionKind, subjectId: number, exceptId?: string): Promise<void> {
    const index = this.indexKey(kind, subjectId);
    const keep = exceptId ? sha256Hex(exceptId) : null;
    const hashes = (await this.redis.smembers(index)).filter((h) => h !== keep);
    if (hashes.length === 0) return;
    await this.redis
      .multi()
      .del(...hashes.map((h) => this.key(h)))
      .srem(index, ...hashes)
      .exec();
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
    const results = await this.redis.multi().del(this.key(handle)).srem(index, handle).exec();
    return Number(results?.[0]?.[1] ?? 0) === 1;
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
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}sess-of:*`, 'COUNT', count);
      for (const key of keys) removed += (await this.prune(key.slice(prefix.length))).ended;
      cursor = next;
    } while (cursor !== '0');
    return removed;
  }

  /** Removes ids of ended sessions from the index; returns the live ones with their data. */
  private async prune(index: string): Promise<{ live: Map<string, Stored>; ended: number }> {
    const hashes = await this.redis.smembers(index);
    const live = new Map<string, Stored>();
    if (hashes.length === 0) return { live, ended: 0 };
    const values = await this.redis.mget(...hashes.map((h) => this.key(h)));
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
