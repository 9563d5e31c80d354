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
  /** How the user signed in (RFC 8176 `amr` values, e.g. `pwd`, `otp`, `mfa`, `hwk`, `swk`, `user`); id_tokens report it. */
  amr?: string[];
}

/**
 * Server-side sessions in Redis. The key is the SHA-256 of the cookie value,
 * so a Redis dump yields no usable cookie. A per-subject set lets us sign out
 * every session of an account (password change, account deletion).
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private key(id: string) {
    return `sess:${sha256Hex(id)}`;
  }

  private indexKey(kind: SessionKind, subjectId: number) {
    return `sess-of:${kind}:${subjectId}`;
  }

  async create(kind: SessionKind, subjectId: number, amr?: string[]): Promise<Session> {
    const now = Math.floor(Date.now() / 1000);
    const session: Session = { id: randomToken(), kind, subjectId, createdAt: now, authTime: now, ...(amr ? { amr } : {}) };
    const ttl = this.config.sessionTtlSeconds;
    const hashed = sha256Hex(session.id);
    await this.redis
      .multi()
      .set(this.key(session.id), JSON.stringify({ kind, subjectId, createdAt: now, authTime: now, ...(amr ? { amr } : {}) }), 'EX', ttl)
      .sadd(this.indexKey(kind, subjectId), hashed)
      .expire(this.indexKey(kind, subjectId), ttl)
      .exec();
    return session;
  }

  async get(id: string | undefined, kind: SessionKind): Promise<Session | null> {
    if (!id || id.length > 100) return null;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    const data = JSON.parse(raw) as Omit<Session, 'id'>;
    if (data.kind !== kind) return null;
    return { id, ...data };
  }

  async destroy(session: Pick<Session, 'id' | 'kind' | 'subjectId'>): Promise<void> {
    await this.redis.multi().del(this.key(session.id)).srem(this.indexKey(session.kind, session.subjectId), sha256Hex(session.id)).exec();
  }

  /** Signs out every session of a subject, except (optionally) the current one. */
  async destroyAll(kind: SessionKind, subjectId: number, exceptId?: string): Promise<void> {
    const index = this.indexKey(kind, subjectId);
    const keep = exceptId ? sha256Hex(exceptId) : null;
    const hashes = (await this.redis.smembers(index)).filter((h) => h !== keep);
    if (hashes.length === 0) return;
    await this.redis
      .multi()
      .del(...hashes.map((h) => `sess:${h}`))
      .srem(index, ...hashes)
      .exec();
  }
}
