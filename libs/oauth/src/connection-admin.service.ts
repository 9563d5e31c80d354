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
  /** The user's own setting (account center); the developer's PATCH does not offer it. */
  emailMuted?: boolean;
}

/**
 * Whose connection a change may touch: the developer's application, or the
 * end user's own account. Anything outside the scope is 404.
 */
export type ConnectionScope = { applicationId: string } | { userId: number };

const VIEW_COLUMNS = `c.id, c.user_global_id, u.name, u.region, c.shared_email, c.active, c.blocked, c.email_muted, c.is_forwarding,
  c.sessions, c.last_session_at, c.joined_at`;

/** The rows of a status; the columns are those of `connections` (unqualified: also used inside the search branches). */
const STATUS_SQL: Record<UserStatus, string> = {
  active: 'blocked = 0 AND active = 1',
  inactive: 'blocked = 0 AND active = 0',
  blocked: 'blocked = 1',
};

/**
 * The index that yields the page already in (joined_at, id) order. Named,
 * because MariaDB otherwise often prefers a `ref` on application_id and
 * scans from the newest row down to the cursor (10,000 rows for a page
 * 10,000 deep) instead of starting at the cursor.
 */
const LIST_INDEX: Record<UserStatus | 'all', string> = {
  all: 'ix_connections_list',
  active: 'ix_connections_status',
  inactive: 'ix_connections_status',
  blocked: 'ix_connections_blocked',
};

/** Rows after the cursor in newest-first order (spelled out: MariaDB makes no index range of `(a, b) < (?, ?)`). */
const AFTER_CURSOR = '(joined_at < ? OR (joined_at = ? AND id < ?))';

/** The searched columns and their indexes (migration 1764300000000). */
const SEARCHED = [
  ['user_global_id', 'ix_connections_search_gid'],
  ['user_name', 'ix_connections_search_name'],
  ['shared_email', 'ix_connections_search_email'],
] as const;

/**
 * The connections of one application whose Global ID, name or shared email
 * (a real address or the relay address) starts with the term, as (id, joined_at).
 * Prefix matching only (`LIKE 'term%'`): each branch is a range scan of one
 * per-application index (application_id, column, blocked, active, joined_at),
 * which also holds the status and the sort key, so a search reads only the
 * matching index entries and no rows, even at 1M connections, where
 * `'%term%'` would scan them all. UNION removes rows matched twice.
 */
function matchesSql(status?: UserStatus): string {
  const and = status ? ` AND ${STATUS_SQL[status]}` : '';
  return SEARCHED
    .map(([column, index]) => `SELECT id, joined_at FROM connections FORCE INDEX (${index}) WHERE application_id = ? AND ${column} LIKE ?${and}`)
    .join(' UNION ');
}

/** The term as a LIKE prefix pattern, its wildcards (and the escape character) taken literally. */
const likePrefix = (term: string) => `${term.replace(/[\\%_]/g, '\\$&')}%`;

type Cursor = { at: Date; id: string };
const cursorParams = (after: Cursor | null) => (after ? [after.at, after.at, after.id] : []);

/** Rows of VIEW_COLUMNS (one more than the limit, to know whether a next page exists) and the filtered total. */
interface Page {
  rows: ViewRow[];
  total: number;
}

/** A connection as VIEW_COLUMNS selects it (MySQL booleans are 0/1). */
interface ViewRow {
  id: string;
  user_global_id: string;
  name: string;
  shared_email: string | null;
  active: number;
  blocked: number;
  email_muted: number;
  is_forwarding: number;
  sessions: number;
  last_session_at: Date | null;
  joined_at: Date;
  region: string;
}

/** The row of a connection a change needs, read under lock. */
interface LockedConnection {
  id: string;
  application_id: string;
  user_id: number;
  user_global_id: string;
  relay_local: string;
  shared_email: string | null;
  is_forwarding: number;
  email_muted: number;
  blocked: number;
  active: number;
}

type PendingEvent = [WebhookEventType, Record<string, unknown>];

const LOCK_SELECT = `SELECT id, application_id, user_id, user_global_id, relay_local, shared_email, is_forwarding, email_muted, blocked, active FROM connections`;

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

  /** Newest `joined` first (ties: id desc), keyset-paginated; the page in one query, `total` with it or from the counters. */
  async list(applicationId: string, query: UserListQuery): Promise<UserList> {
    const after = query.cursor !== undefined ? decodeCursor(this.cursorKey(), query.cursor) : null;
    const { rows, total } = query.search ? await this.searchPage(applicationId, query, after) : await this.plainPage(applicationId, query, after);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      users: page.map((r) => this.toView(r)),
      total,
      nextCursor: rows.length > query.limit ? encodeCursor(this.cursorKey(), last.joined_at, last.id) : null,
    };
  }

  /** Without search: ids in index order from the cursor on, then their rows; `total` from the counters (O(1)). */
  private async plainPage(applicationId: string, query: UserListQuery, after: Cursor | null): Promise<Page> {
    const where = ['application_id = ?', ...(query.status ? [STATUS_SQL[query.status]] : []), ...(after ? [AFTER_CURSOR] : [])];
    const [rows, total] = await Promise.all([
      this.db.query<ViewRow[]>(
        `SELECT ${VIEW_COLUMNS} FROM (
           SELECT id FROM connections FORCE INDEX (${LIST_INDEX[query.status ?? 'all']})
           WHERE ${where.join(' AND ')} ORDER BY joined_at DESC, id DESC LIMIT ?
         ) p JOIN connections c ON c.id = p.id JOIN users u ON u.id = c.user_id
         ORDER BY c.joined_at DESC, c.id DESC`,
        [applicationId, ...cursorParams(after), query.limit + 1],
      ),
      this.countAll(applicationId, query.status),
    ]);
    return { rows, total };
  }

  /**
   * With search: one pass over the matching index entries counts them all
   * (`total`, bounded by the prefix ranges) and picks the page; only the
   * page's rows are read.
   */
  private async searchPage(applicationId: string, query: UserListQuery, after: Cursor | null): Promise<Page> {
    const like = likePrefix(query.search!);
    const matches = matchesSql(query.status);
    const matchParams = [applicationId, like, applicationId, like, applicationId, like];
    const rows = await this.db.query<(ViewRow & { total: number })[]>(
      `SELECT ${VIEW_COLUMNS}, p.total FROM (
         SELECT id, joined_at, total FROM (SELECT id, joined_at, COUNT(*) OVER () AS total FROM (${matches}) m) w
         ${after ? `WHERE ${AFTER_CURSOR}` : ''} ORDER BY joined_at DESC, id DESC LIMIT ?
       ) p JOIN connections c ON c.id = p.id JOIN users u ON u.id = c.user_id
       ORDER BY c.joined_at DESC, c.id DESC`,
      [...matchParams, ...cursorParams(after), query.limit + 1],
    );
    if (rows.length) return { rows, total: Number(rows[0].total) };
    // No row after the cursor (or no match at all): count on its own.
    const [{ n }] = await this.db.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM (${matches}) m`, matchParams);
    return { rows, total: Number(n) };
  }

  /** O(1): the counters kept by every transaction that changes a connection. */
  private async countAll(applicationId: string, status?: UserStatus): Promise<number> {
    const [row] = await this.db.query<Record<UserStatus, number>[]>(`SELECT active, inactive, blocked FROM application_user_counts WHERE application_id = ?`, [applicationId]);
    if (!row) return 0;
    return status ? Number(row[status]) : Number(row.active) + Number(row.inactive) + Number(row.blocked);
  }

  async get(applicationId: string, connectionId: string): Promise<DeveloperUserView> {
    const [row] = await this.db.query<ViewRow[]>(
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
    await this.change({ applicationId }, connectionId, changes);
    return this.get(applicationId, connectionId);
  }

  /**
   * The same changes made by the end user from the account center (their
   * shared address, forwarding, mute): the one implementation the developer's
   * PATCH uses, scoped to the user's own connections.
   */
  async updateForUser(userId: number, connectionId: string, changes: Omit<UserChanges, 'blocked'>): Promise<void> {
    await this.change({ userId }, connectionId, { isForwarding: changes.isForwarding, appEmail: changes.appEmail, emailMuted: changes.emailMuted });
  }

  /** Locks, changes and records the events in one transaction; dispatches them after commit. */
  private async change(scope: ConnectionScope, connectionId: string, changes: UserChanges): Promise<void> {
    const eventIds = await this.db.transaction(async (m) => {
      const c = await this.lock(m, scope, connectionId);
      return this.applyChanges(m, c, changes);
    });
    await this.outbox.dispatch(eventIds);
  }

  private async applyChanges(m: EntityManager, c: LockedConnection, changes: UserChanges): Promise<(string | null)[]> {
    const applicationId = c.application_id;
    const set: Record<string, unknown> = {};
    const events: PendingEvent[] = [];

    if (changes.isForwarding !== undefined && changes.isForwarding !== !!c.is_forwarding) {
      set.is_forwarding = changes.isForwarding;
      events.push(['email_forwarding_changed', { isForwarding: changes.isForwarding }]);
    }
    if (changes.emailMuted !== undefined && changes.emailMuted !== !!c.email_muted) {
      set.email_muted = changes.emailMuted;
      events.push(['email_muted_changed', { emailMuted: changes.emailMuted }]);
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
    if (events.length === 0) return [];

    const columns = Object.keys(set);
    await m.query(`UPDATE connections SET ${columns.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, [...columns.map((k) => set[k]), c.id]);
    if (blocking) {
      const before = { active: !!c.active, blocked: !!c.blocked };
      await moveUserCount(m, applicationId, countBucket(before), countBucket({ ...before, blocked: changes.blocked! }));
      // Blocking takes effect on the very next API request of the app,
      // and ends its refresh token families for good (unblocking does not revive them).
      if (changes.blocked) await this.revokeTokens(m, c.id);
    }
    return this.recordAll(m, c, events);
  }

  /**
   * The user's "Stop using LoginSign with this app": the consent ends
   * (`active` false, so the next sign-in asks again), every access token and
   * refresh token family of the connection is revoked, the counters move and
   * the app gets `user_consent_revoked`. Already revoked: nothing happens.
   */
  async revokeConsent(userId: number, connectionId: string): Promise<void> {
    const eventIds = await this.db.transaction(async (m) => {
      const c = await this.lock(m, { userId }, connectionId);
      if (!c.active) return [];
      await m.query(`UPDATE connections SET active = 0 WHERE id = ?`, [c.id]);
      await this.revokeTokens(m, c.id);
      const before = { active: true, blocked: !!c.blocked };
      await moveUserCount(m, c.application_id, countBucket(before), countBucket({ ...before, active: false }));
      return this.recordAll(m, c, [['user_consent_revoked', {}]]);
    });
    await this.outbox.dispatch(eventIds);
  }

  /**
   * A linked address the user removes stops being shared: connections that
   * saw it see the relay address instead (`user_email_changed`). Runs in the
   * caller's transaction; returns the events to dispatch after commit.
   */
  async unshareAddress(m: EntityManager, userId: number, email: string): Promise<(string | null)[]> {
    const rows = await m.query<LockedConnection[]>(`${LOCK_SELECT} WHERE user_id = ? AND shared_email = ? FOR UPDATE`, [userId, email]);
    const ids: (string | null)[] = [];
    for (const c of rows) ids.push(...(await this.applyChanges(m, c, { appEmail: `${c.relay_local}@${this.config.relayDomain}` })));
    return ids;
  }

  /**
   * Account closure: the event, the deletion (access tokens go by FK cascade)
   * and the counters in one transaction. The relay local part stays in
   * relay_addresses, so a later sign-in gets a fresh connection and address.
   */
  async close(applicationId: string, connectionId: string): Promise<void> {
    const eventIds = await this.db.transaction(async (m) => this.closeLocked(m, await this.lock(m, { applicationId }, connectionId)));
    await this.outbox.dispatch(eventIds);
  }

  /**
   * Every connection of a user closed as in `close` (`user_account_deleted`
   * to each app), in the caller's transaction: the account deletion.
   * Returns the events to dispatch after commit.
   */
  async closeAllForUser(m: EntityManager, userId: number): Promise<(string | null)[]> {
    const rows = await m.query<LockedConnection[]>(`${LOCK_SELECT} WHERE user_id = ? ORDER BY id FOR UPDATE`, [userId]);
    const ids: (string | null)[] = [];
    for (const c of rows) ids.push(...(await this.closeLocked(m, c)));
    return ids;
  }

  private async closeLocked(m: EntityManager, c: LockedConnection): Promise<(string | null)[]> {
    const ids = await this.recordAll(m, c, [['user_account_deleted', {}]]);
    await m.query(`DELETE FROM connections WHERE id = ?`, [c.id]);
    await moveUserCount(m, c.application_id, countBucket({ active: !!c.active, blocked: !!c.blocked }), null);
    return ids;
  }

  private async revokeTokens(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
    await m.query(`UPDATE refresh_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
  }

  private async recordAll(m: EntityManager, c: LockedConnection, events: PendingEvent[]): Promise<(string | null)[]> {
    const base = { applicationId: c.application_id, connectionId: c.id, globalId: c.user_global_id };
    const ids: (string | null)[] = [];
    for (const [type, data] of events) ids.push(await this.outbox.record(m, type, { ...base, ...data }));
    return ids;
  }

  private async lock(m: EntityManager, scope: ConnectionScope, connectionId: string): Promise<LockedConnection> {
    const [row] =
      'applicationId' in scope
        ? await m.query<LockedConnection[]>(`${LOCK_SELECT} WHERE id = ? AND application_id = ? FOR UPDATE`, [connectionId, scope.applicationId])
        : await m.query<LockedConnection[]>(`${LOCK_SELECT} WHERE id = ? AND user_id = ? FOR UPDATE`, [connectionId, scope.userId]);
    if (!row) throw notFound('applicationId' in scope ? 'The user' : 'The app');
    return row;
  }

  /** What `appEmail` stores: null for "", the relay address, or a linked (verified) address of the user; else 400. */
  private async shareableEmail(m: EntityManager, c: LockedConnection, appEmail: string): Promise<string | null> {
    const email = normalizeEmail(appEmail);
    if (email === '') return null;
    const relay = `${c.relay_local}@${this.config.relayDomain}`;
    if (email === relay) return relay;
    const [linked] = await m.query<{ email: string }[]>(`SELECT email FROM user_emails WHERE user_id = ? AND email = ? AND verified = 1`, [c.user_id, email]);
    if (!linked) throw new AppError('invalid_request', 'appEmail must be an address linked to the user, the relay address, or "".');
    return linked.email;
  }

  private toView(r: ViewRow): DeveloperUserView {
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
