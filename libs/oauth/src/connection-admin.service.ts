import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, decodeCursor, encodeCursor, isoUtc, normalizeEmail, notFound } from '@app/common';
import { WebhookOutbox, WebhookEventType } from '@app/webhooks';
import { countBucket, moveUserCount, UserCountBucket } from './connections.service';

/** A user of an application as the developer sees it (the seed's fields plus isForwarding). */
export interface DeveloperUserView {
  id: string;
  globalId: string;
  name: string;
  /** The address shared with the app, or "-" when none is. */
  email: string;
  active: boolean;
  blocked: boolean;
  emailMuted: boolean;
  isForwarding: boolean;
  sessions: number;
  lastSession: string | null;
  joined: string;
  region: string;
}

/** `status` filter: the same three sets as the counters. */
export type UserStatus = UserCountBucket;
export const USER_STATUSES: readonly UserStatus[] = ['active', 'inactive', 'blocked'];

export interface UserListQuery {
  limit: number;
  cursor?: string;
  search?: string;
  status?: UserStatus;
}

export interface UserList {
  users: DeveloperUserView[];
  total: number;
  nextCursor: string | null;
}

/** Absent = unchanged. `appEmail` "" stops sharing. */
export interface UserChanges {
  isForwarding?: boolean;
  appEmail?: string;
  blocked?: boolean;
}

const VIEW_COLUMNS = `c.id, c.user_global_id, u.name, u.region, c.shared_email, c.active, c.blocked, c.email_muted, c.is_forwarding,
  c.sessions, c.last_session_at, c.joined_at`;

const STATUS_SQL: Record<UserStatus, string> = {
  active: 'c.blocked = 0 AND c.active = 1',
  inactive: 'c.blocked = 0 AND c.active = 0',
  blocked: 'c.blocked = 1',
};

/**
 * The index that yields the page already in (joined_at, id) order, named
 * because MariaDB otherwise often prefers a `ref` on application_id and
 * scans from the newest row down to the cursor (10,000 rows for a page
 * 10,000 deep) instead of starting at the cursor.
 */
const LIST_INDEX: Record<UserStatus | 'all', string> = {
  all: 'ix_connections_list',
  active: 'ix_connections_status',
  inactive: 'ix_connections_status',
  blocked: 'ix_connections_status',
};

/**
 * The connections of one application whose Global ID, name or shared email
 * (a real address or the relay address) starts with the term.
 * Prefix matching only (`LIKE 'term%'`): each branch is a range scan of one
 * per-application index (application_id, column), so a search reads only the
 * matching index entries even at 1M connections, where `'%term%'` would scan
 * them all.
 */
const MATCHES = `SELECT id FROM connections WHERE application_id = ? AND user_global_id LIKE ?
  UNION SELECT id FROM connections WHERE application_id = ? AND user_name LIKE ?
  UNION SELECT id FROM connections WHERE application_id = ? AND shared_email LIKE ?`;

/** The term as a LIKE prefix pattern, its wildcards (and the escape character) taken literally. */
const likePrefix = (term: string) => `${term.replace(/[\\%_]/g, '\\$&')}%`;

/** The row of a connection a change needs, read under lock. */
interface LockedConnection {
  id: string;
  user_id: number;
  user_global_id: string;
  relay_local: string;
  shared_email: string | null;
  is_forwarding: number;
  blocked: number;
  active: number;
}

/**
 * The developer's side of connections: list, update, close. Callers pass an
 * application id they have already checked belongs to the developer; every
 * query is also scoped by it, so a connection of another application is 404.
 */
@Injectable()
export class ConnectionAdminService {
  constructor(
    private readonly db: DataSource,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private cursorKey() {
    return this.config.secrets.sessionSecret;
  }

  /** Newest `joined` first (ties: id desc), keyset-paginated; one query for the page, one for `total`. */
  async list(applicationId: string, query: UserListQuery): Promise<UserList> {
    const after = query.cursor !== undefined ? decodeCursor(this.cursorKey(), query.cursor) : null;
    const search = query.search ? likePrefix(query.search) : null;
    const matchParams = search ? [applicationId, search, applicationId, search, applicationId, search] : [];

    const where = ['c.application_id = ?'];
    const params: unknown[] = [...matchParams, applicationId];
    if (query.status) where.push(STATUS_SQL[query.status]);
    if (after) {
      // Spelled out rather than (joined_at, id) < (?, ?), which MariaDB does not turn into an index range.
      where.push('(c.joined_at < ? OR (c.joined_at = ? AND c.id < ?))');
      params.push(after.at, after.at, after.id);
    }
    const from = search ? `(${MATCHES}) m JOIN connections c ON c.id = m.id` : `connections c FORCE INDEX (${LIST_INDEX[query.status ?? 'all']})`;
    const pageSql = `SELECT ${VIEW_COLUMNS} FROM ${from} JOIN users u ON u.id = c.user_id
      WHERE ${where.join(' AND ')} ORDER BY c.joined_at DESC, c.id DESC LIMIT ?`;

    const [rows, total] = await Promise.all([
      this.db.query(pageSql, [...params, query.limit + 1]),
      search ? this.countMatches(matchParams, query.status) : this.countAll(applicationId, query.status),
    ]);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      users: page.map((r: Record<string, any>) => this.toView(r)),
      total,
      nextCursor: rows.length > query.limit ? encodeCursor(this.cursorKey(), last.joined_at, last.id) : null,
    };
  }

  /** O(1): the counters kept by every transaction that changes a connection. */
  private async countAll(applicationId: string, status?: UserStatus): Promise<number> {
    const [row] = await this.db.query(`SELECT active, inactive, blocked FROM application_user_counts WHERE application_id = ?`, [applicationId]);
    if (!row) return 0;
    return status ? Number(row[status]) : Number(row.active) + Number(row.inactive) + Number(row.blocked);
  }

  /** Bounded by the prefix ranges: counts only the matching index entries. */
  private async countMatches(matchParams: unknown[], status?: UserStatus): Promise<number> {
    const sql = status
      ? `SELECT COUNT(*) AS n FROM (${MATCHES}) m JOIN connections c ON c.id = m.id WHERE ${STATUS_SQL[status]}`
      : `SELECT COUNT(*) AS n FROM (${MATCHES}) m`;
    const [row] = await this.db.query(sql, matchParams);
    return Number(row.n);
  }

  async get(applicationId: string, connectionId: string): Promise<DeveloperUserView> {
    const [row] = await this.db.query(
      `SELECT ${VIEW_COLUMNS} FROM connections c JOIN users u ON u.id = c.user_id WHERE c.id = ? AND c.application_id = ?`,
      [connectionId, applicationId],
    );
    if (!row) throw notFound('The user');
    return this.toView(row);
  }

  /**
   * Applies the changes in one transaction: counters when `blocked` changes,
   * token revocation when blocking, and one event per field that really
   * changed (a no-op PATCH records nothing).
   */
  async update(applicationId: string, connectionId: string, changes: UserChanges): Promise<DeveloperUserView> {
    if (changes.isForwarding === undefined && changes.appEmail === undefined && changes.blocked === undefined) {
      throw new AppError('invalid_request', 'Send at least one of isForwarding, appEmail or blocked.');
    }
    const eventIds = await this.db.transaction(async (m) => {
      const c = await this.lock(m, applicationId, connectionId);
      const set: Record<string, unknown> = {};
      const events: [WebhookEventType, Record<string, unknown>][] = [];

      if (changes.isForwarding !== undefined && changes.isForwarding !== !!c.is_forwarding) {
        set.is_forwarding = changes.isForwarding;
        events.push(['email_forwarding_changed', { isForwarding: changes.isForwarding }]);
      }
      if (changes.appEmail !== undefined) {
        const email = await this.shareableEmail(m, c, changes.appEmail);
        if (email !== c.shared_email) {
          set.shared_email = email;
          events.push(['user_email_changed', { email }]);
        }
      }
      const blocking = changes.blocked !== undefined && changes.blocked !== !!c.blocked;
      if (blocking) {
        set.blocked = changes.blocked;
        events.push([changes.blocked ? 'user_blocked' : 'user_unblocked', {}]);
      }
      if (events.length === 0) return [] as (string | null)[];

      const columns = Object.keys(set);
      await m.query(`UPDATE connections SET ${columns.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, [...columns.map((k) => set[k]), c.id]);
      if (blocking) {
        const before = { active: !!c.active, blocked: !!c.blocked };
        await moveUserCount(m, applicationId, countBucket(before), countBucket({ ...before, blocked: changes.blocked! }));
        // Blocking takes effect on the very next API request of the app.
        if (changes.blocked) await m.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ?`, [c.id]);
        // ...and ends its refresh token families for good (unblocking does not revive them).
        if (changes.blocked) await m.query(`UPDATE refresh_tokens SET revoked = 1 WHERE connection_id = ?`, [c.id]);
      }
      const base = { applicationId, connectionId: c.id, globalId: c.user_global_id };
      const ids: (string | null)[] = [];
      for (const [type, data] of events) ids.push(await this.outbox.record(m, type, { ...base, ...data }));
      return ids;
    });
    await this.outbox.dispatch(eventIds);
    return this.get(applicationId, connectionId);
  }

  /**
   * Account closure: the event, the deletion (access tokens go by FK cascade)
   * and the counters in one transaction. The relay local part stays in
   * relay_addresses, so a later sign-in gets a fresh connection and address.
   */
  async close(applicationId: string, connectionId: string): Promise<void> {
    const eventId = await this.db.transaction(async (m) => {
      const c = await this.lock(m, applicationId, connectionId);
      const id = await this.outbox.record(m, 'user_account_deleted', { applicationId, connectionId: c.id, globalId: c.user_global_id });
      await m.query(`DELETE FROM connections WHERE id = ?`, [c.id]);
      await moveUserCount(m, applicationId, countBucket({ active: !!c.active, blocked: !!c.blocked }), null);
      return id;
    });
    await this.outbox.dispatch([eventId]);
  }

  private async lock(m: EntityManager, applicationId: string, connectionId: string): Promise<LockedConnection> {
    const [row] = await m.query(
      `SELECT id, user_id, user_global_id, relay_local, shared_email, is_forwarding, blocked, active
       FROM connections WHERE id = ? AND application_id = ? FOR UPDATE`,
      [connectionId, applicationId],
    );
    if (!row) throw notFound('The user');
    return row;
  }

  /** What `appEmail` stores: null for "", the relay address, or a linked (verified) address of the user; else 400. */
  private async shareableEmail(m: EntityManager, c: LockedConnection, appEmail: string): Promise<string | null> {
    const email = normalizeEmail(appEmail);
    if (email === '') return null;
    const relay = `${c.relay_local}@${this.config.relayDomain}`;
    if (email === relay) return relay;
    const [linked] = await m.query(`SELECT email FROM user_emails WHERE user_id = ? AND email = ? AND verified = 1`, [c.user_id, email]);
    if (!linked) throw new AppError('invalid_request', 'appEmail must be an address linked to the user, the relay address, or "".');
    return linked.email;
  }

  private toView(r: Record<string, any>): DeveloperUserView {
    return {
      id: r.id,
      globalId: r.user_global_id,
      name: r.name,
      email: r.shared_email ?? '-',
      active: !!r.active,
      blocked: !!r.blocked,
      emailMuted: !!r.email_muted,
      isForwarding: !!r.is_forwarding,
      sessions: Number(r.sessions),
      lastSession: isoUtc(r.last_session_at),
      joined: isoUtc(r.joined_at)!,
      region: r.region,
    };
  }
}
