import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { TransactionCommitEvent } from 'typeorm/subscriber/event/TransactionCommitEvent';
import { TransactionRollbackEvent } from 'typeorm/subscriber/event/TransactionRollbackEvent';
import { APP_CONFIG, AppConfig } from '@app/config';
import { randomToken } from '../crypto';
import { AppError } from '../errors';
import { REDIS } from '../redis/redis.module';

/** Whose cached token lookups a change may make wrong: users (and everything of their connections) and applications. */
export interface AccessTargets {
  users?: (number | string)[];
  applications?: string[];
}

/** The change signals of one token lookup's user and application, as read before the lookup. */
export interface AccessVersions {
  user: string;
  application: string;
}

/** What `read` saw: the versions (null = the key is missing), and whether a change is in flight. */
export interface AccessSnapshot {
  keys: [string, string];
  values: [string | null, string | null];
  pending: boolean;
}

/** One hash per user / application, hash-tagged so each lands in its own Cluster slot. */
const userKey = (id: number | string) => `authz:{u:${id}}`;
const applicationKey = (id: string) => `authz:{a:${id}}`;

interface PendingChange {
  marked: Set<string>;
  raised: Set<string>;
}

/**
 * Change signals for cached token lookups (see docs/architecture.md, "Token
 * lookups"). Each user and each application has a Redis hash holding a random
 * version `v` and the number `p` of changes in flight. A change raises its
 * keys just before its transaction commits (p + 1, new v) and settles them
 * after commit or rollback (p - 1, new v again). A lookup is cached with the
 * versions read before its MySQL query, and served while they hold and
 * nothing is in flight. Versions are random, never counters: a key lost in
 * Redis (expiry, eviction, restart) never makes an old entry valid again.
 *
 * A change that cannot raise its keys (Redis unreachable) does not commit: it
 * answers 503, so no committed change is ever missed by a cache. A process
 * that dies after commit leaves `p` raised: that user's lookups then go to
 * MySQL until the key expires (correct, slower), nothing stale is served.
 */
@Injectable()
export class AccessChangeSignals implements EntitySubscriberInterface {
  private readonly logger = new Logger('access-signals');
  private readonly pending = new WeakMap<QueryRunner, PendingChange>();
  private readonly ttlMs: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Long enough that a key rarely expires under a cached entry (an expiry only costs one MySQL read).
    this.ttlMs = config.accessTokenTtlSeconds * 1000;
    db.subscribers.push(this);
  }

  /** The user's profile, emails, connections or tokens change in the transaction of `m`. */
  userChanged(m: EntityManager, userId: number | string): void {
    this.mark(m, userKey(userId));
  }

  /** The application (and so every connection and token of it) changes in the transaction of `m`. */
  applicationChanged(m: EntityManager, applicationId: string): void {
    this.mark(m, applicationKey(applicationId));
  }

  /** A change made outside a transaction (one statement): raised before `work`, settled after it. */
  async around<T>(targets: AccessTargets, work: () => Promise<T>): Promise<T> {
    const keys = new Set([...(targets.users ?? []).map(userKey), ...(targets.applications ?? []).map(applicationKey)]);
    const raised = new Set<string>();
    await this.raise(keys, raised);
    try {
      return await work();
    } finally {
      await this.settle(raised);
    }
  }

  /** The signals of a lookup's user and application, in one round trip (two commands: different slots on a Cluster). */
  async read(userId: number | string, applicationId: string): Promise<AccessSnapshot> {
    const keys: [string, string] = [userKey(userId), applicationKey(applicationId)];
    const [user, application] = await Promise.all(keys.map((key) => this.redis.hmget(key, 'v', 'p')));
    return {
      keys,
      values: [user[0], application[0]],
      pending: Number(user[1] ?? 0) !== 0 || Number(application[1] ?? 0) !== 0,
    };
  }

  /**
   * The versions a lookup read after `snapshot` may be cached under, or null
   * when it must not be cached. A missing key gets a fresh version only if
   * it is still missing (HSETNX): a change raised after our read already
   * created it, and then the lookup may predate that change.
   */
  async versionsFor(snapshot: AccessSnapshot): Promise<AccessVersions | null> {
    if (snapshot.pending) return null;
    const versions = await Promise.all(
      snapshot.keys.map(async (key, i) => {
        const seen = snapshot.values[i];
        if (seen !== null) return seen;
        const fresh = randomToken(16);
        const [[, created]] = (await this.redis.multi().hsetnx(key, 'v', fresh).pexpire(key, this.ttlMs).exec()) as [Error | null, number][];
        return created === 1 ? fresh : null;
      }),
    );
    if (versions[0] === null || versions[1] === null) return null;
    return { user: versions[0], application: versions[1] };
  }

  /** Whether a lookup cached under `versions` still answers right now. */
  static holds(versions: AccessVersions, snapshot: AccessSnapshot): boolean {
    return !snapshot.pending && snapshot.values[0] === versions.user && snapshot.values[1] === versions.application;
  }

  beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> | void {
    const change = this.pending.get(event.queryRunner);
    if (change) return this.raise(change.marked, change.raised);
  }

  afterTransactionCommit(event: TransactionCommitEvent): Promise<void> | void {
    return this.settleRunner(event.queryRunner);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> | void {
    return this.settleRunner(event.queryRunner);
  }

  private mark(m: EntityManager, key: string): void {
    const runner = m.queryRunner;
    if (!runner?.isTransactionActive) throw new Error('A change signal belongs inside the transaction of the change (or use around()).');
    let change = this.pending.get(runner);
    if (!change) this.pending.set(runner, (change = { marked: new Set(), raised: new Set() }));
    change.marked.add(key);
  }

  /** Nested transactions (savepoints) commit into the outer one: settle only when the real transaction ended. */
  private settleRunner(runner: QueryRunner): Promise<void> | void {
    const change = this.pending.get(runner);
    if (!change || runner.isTransactionActive) return;
    this.pending.delete(runner);
    return this.settle(change.raised);
  }

  /** Before the change commits: every lookup cached earlier stops matching, and nothing is cached until it settles. */
  private async raise(keys: Set<string>, raised: Set<string>): Promise<void> {
    const todo = [...keys].filter((key) => !raised.has(key));
    const results = await Promise.allSettled(
      todo.map(async (key) => {
        await this.redis.multi().hincrby(key, 'p', 1).hset(key, 'v', randomToken(16)).pexpire(key, this.ttlMs).exec();
        raised.add(key);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.logger.warn(`change signal not raised: ${failed.reason instanceof Error ? failed.reason.message : String(failed.reason)}`);
      throw new AppError('temporarily_unavailable', 'The change could not be announced to the API processes. Try again shortly.').withHeader('Retry-After', '5');
    }
  }

  /** After commit or rollback. Never throws (the change is committed): a failure leaves `p` raised, so lookups skip the cache until the key expires. */
  private async settle(raised: Set<string>): Promise<void> {
    await Promise.all(
      [...raised].map((key) =>
        this.redis
          .multi()
          .hincrby(key, 'p', -1)
          .hset(key, 'v', randomToken(16))
          .pexpire(key, this.ttlMs)
          .exec()
          .catch((error: unknown) => this.logger.warn(`change signal not settled (${key}): ${error instanceof Error ? error.message : String(error)}`)),
      ),
    );
  }
}
