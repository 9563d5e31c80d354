import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ReadReplicas } from '@app/database';
import { isDuplicateKey } from '@app/common';

/**
 * The SQL of the tables this lib owns: `connections`, `application_user_counts`
 * and `relay_addresses` (typed raw SQL, no entities). Reads may join the
 * tables of libs this one depends on (`users`, `applications`); writes stay
 * with each table's owner. Every method takes the caller's EntityManager
 * when it must run inside the caller's transaction.
 */

/** A `connections` row as the consent flow reads it. */
export interface ConnectionRow {
  id: string;
  application_id: string;
  user_id: number | string;
  relay_local: string;
  shared_email: string | null;
  scope: string | null;
  is_forwarding: number;
  email_muted: number;
  blocked: number;
  active: number;
  sessions: number | string;
  last_session_at: Date | null;
  joined_at: Date;
}

/** The row of a connection a state change needs, read under lock. */
export interface LockedConnection {
  id: string;
  application_id: string;
  user_id: number;
  user_global_id: string;
  relay_local: string;
  shared_email: string | null;
  /** The user chose "Don't share" (not the developer's ""). */
  email_withheld: number;
  is_forwarding: number;
  email_muted: number;
  blocked: number;
  active: number;
}

/** A row of the developer's user list (`connections` joined with `users`). */
export interface UserViewRow {
  id: string;
  user_global_id: string;
  name: string;
  region: string;
  shared_email: string | null;
  active: number;
  blocked: number;
  email_muted: number;
  is_forwarding: number;
  sessions: number | string;
  last_session_at: Date | null;
  joined_at: Date;
}

/** A row of the account center's app list (`connections` joined with `applications`). */
export interface AccountAppRow {
  id: string;
  relay_local: string;
  shared_email: string | null;
  scope: string | null;
  is_forwarding: number;
  email_muted: number;
  active: number;
  last_session_at: Date | null;
  joined_at: Date;
  app_name: string;
  logo_url: string | null;
  /** The address the app asked to see (pending the user's answer), or null. */
  requested_email: string | null;
  /** Whether the requested address is (still) a confirmed address of the user. */
  requested_confirmed: number | string | null;
}

/** A connection with its user's profile, for OIDC claims. */
export interface ClaimsRow {
  id: string;
  shared_email: string | null;
  relay_local: string;
  global_id: string;
  name: string;
  image: string | null;
  linked_verified: number | string;
}

/** Rows per application in `application_user_counts`: a change adds to a random one, reads sum them. */
const USER_COUNT_SLOTS = 16;

/** The counter of `application_user_counts` a connection is counted in. */
export type UserCountBucket = 'active' | 'inactive' | 'blocked';

/** `status` filter: the same three sets as the counters. */
export type UserStatus = UserCountBucket;

/** Columns a state change may set. */
export interface ConnectionSet {
  is_forwarding?: boolean;
  email_muted?: boolean;
  shared_email?: string | null;
  email_withheld?: boolean;
  blocked?: boolean;
}

const COLUMNS = `id, application_id, user_id, relay_local, shared_email, scope, is_forwarding, email_muted, blocked, active, sessions, last_session_at, joined_at`;

const VIEW_COLUMNS = `c.id, c.user_global_id, u.name, u.region, c.shared_email, c.active, c.blocked, c.email_muted, c.is_forwarding,
  c.sessions, c.last_session_at, c.joined_at`;

const APP_COLUMNS = `c.id, c.relay_local, c.shared_email, c.scope, c.is_forwarding, c.email_muted, c.active, c.last_session_at, c.joined_at,
  a.name AS app_name, a.logo_url, q.email AS requested_email,
  EXISTS(SELECT 1 FROM user_emails e WHERE e.user_id = c.user_id AND e.email = q.email AND e.confirmed_at IS NOT NULL) AS requested_confirmed`;

/** The account center's join: the app and the pending email request of each connection. */
const APP_JOINS = `JOIN applications a ON a.id = c.application_id LEFT JOIN connection_email_requests q ON q.connection_id = c.id`;

const LOCK_SELECT = `SELECT id, application_id, user_id, user_global_id, relay_local, shared_email, email_withheld, is_forwarding, email_muted, blocked, active FROM connections`;

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
function matchesSql(status?: UserStatus, searched: readonly (readonly [string, string])[] = SEARCHED): string {
  const and = status ? ` AND ${STATUS_SQL[status]}` : '';
  return searched.map(([column, index]) => `SELECT id, joined_at FROM connections FORCE INDEX (${index}) WHERE application_id = ? AND ${column} LIKE ?${and}`).join(' UNION ');
}

/** Up to this many matches a search's `total` is exact; above, it is this number as a lower bound ("10,000+"). */
export const SEARCH_TOTAL_EXACT_MAX = 1_000;

/**
 * The matches for counting: each branch stops after `?` entries (the limit + 1),
 * so the union holds more than the limit exactly when the matches do.
 */
function cappedMatchesSql(status: UserStatus | undefined, searched: readonly (readonly [string, string])[]): string {
  const and = status ? ` AND ${STATUS_SQL[status]}` : '';
  return searched.map(([column, index]) => `(SELECT id FROM connections FORCE INDEX (${index}) WHERE application_id = ? AND ${column} LIKE ?${and} LIMIT ?)`).join(' UNION ');
}

/** The term as a LIKE prefix pattern, its wildcards (and the escape character) taken literally. */
const likePrefix = (term: string) => `${term.replace(/[\\%_]/g, '\\$&')}%`;

export type ListCursor = { at: Date; id: string };
const cursorParams = (after: ListCursor | null) => (after ? [after.at, after.at, after.id] : []);

@Injectable()
export class ConnectionsRepository {
  constructor(
    private readonly db: DataSource,
    /** Only for the developer's list and totals, which tolerate lag; everything else reads `db` (the primary). */
    private readonly replicas: ReadReplicas,
  ) {}

  async find(applicationId: string, userId: number, manager: EntityManager = this.db.manager, lock = false): Promise<ConnectionRow | null> {
    const rows: ConnectionRow[] = await manager.query(`SELECT ${COLUMNS} FROM connections WHERE application_id = ? AND user_id = ?${lock ? ' FOR UPDATE' : ''}`, [
      applicationId,
      userId,
    ]);
    return rows.length ? rows[0] : null;
  }

  /** A returning consent: active again, exactly the scopes consented to, the chosen address; the name copy is refreshed too, so the developer's search follows renames. */
  async reactivate(m: EntityManager, connectionId: string, userId: number, scope: string, sharedEmail: string | null, emailWithheld: boolean): Promise<void> {
    await m.query(`UPDATE connections SET active = 1, scope = ?, shared_email = ?, email_withheld = ?, user_name = (SELECT name FROM users WHERE id = ?) WHERE id = ?`, [
      scope,
      sharedEmail,
      emailWithheld,
      userId,
      connectionId,
    ]);
  }

  /** The user's Global ID and name, copied into a new connection. */
  async userCopy(m: EntityManager, userId: number): Promise<{ global_id: string; name: string }> {
    const [user]: { global_id: string; name: string }[] = await m.query(`SELECT global_id, name FROM users WHERE id = ?`, [userId]);
    return user;
  }

  /** Global ID and name are copied for the developer's per-application search indexes. */
  async insert(
    m: EntityManager,
    row: {
      id: string;
      applicationId: string;
      userId: number;
      globalId: string;
      name: string;
      relayLocal: string;
      sharedEmail: string | null;
      emailWithheld: boolean;
      scope: string;
    },
  ): Promise<void> {
    await m.query(
      `INSERT INTO connections (id, application_id, user_id, user_global_id, user_name, relay_local, shared_email, email_withheld, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.applicationId, row.userId, row.globalId, row.name, row.relayLocal, row.sharedEmail, row.emailWithheld, row.scope],
    );
  }

  /** Reserves a relay local part (relay_addresses keeps every one forever); false when it was handed out before. */
  async reserveRelayLocal(m: EntityManager, local: string): Promise<boolean> {
    try {
      await m.query(`INSERT INTO relay_addresses (local_part) VALUES (?)`, [local]);
      return true;
    } catch (error: unknown) {
      if (!isDuplicateKey(error)) throw error;
      return false;
    }
  }

  /**
   * Moves one connection between the per-application counters (`null` = it was
   * created / deleted). Run it in the transaction that changes the connection,
   * so the developer's `total` stays exact without COUNT(*) over the table.
   */
  async moveUserCount(m: EntityManager, applicationId: string, from: UserCountBucket | null, to: UserCountBucket | null): Promise<void> {
    if (from === to) return;
    const delta = { active: 0, inactive: 0, blocked: 0 };
    if (from) delta[from] -= 1;
    if (to) delta[to] += 1;
    // An upsert into a random slot (a slot's own numbers may go negative; the sums are exact):
    // concurrent changes to one application rarely meet on a row.
    const slot = Math.floor(Math.random() * USER_COUNT_SLOTS);
    await m.query(
      `INSERT INTO application_user_counts (application_id, slot, active, inactive, blocked) VALUES (?, ?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE active = active + VALUES(active), inactive = inactive + VALUES(inactive), blocked = blocked + VALUES(blocked)`,
      [applicationId, slot, delta.active, delta.inactive, delta.blocked],
    );
  }

  /** O(1): the counters kept by every transaction that changes a connection (at most 16 rows summed). */
  async countAll(applicationId: string, status?: UserStatus): Promise<number> {
    const [row]: { active: number | string | null; inactive: number | string | null; blocked: number | string | null }[] = await this.replicas.read((db) =>
      db.query(`SELECT SUM(active) AS active, SUM(inactive) AS inactive, SUM(blocked) AS blocked FROM application_user_counts WHERE application_id = ?`, [applicationId]),
    );
    return status ? Number(row[status] ?? 0) : Number(row.active ?? 0) + Number(row.inactive ?? 0) + Number(row.blocked ?? 0);
  }

  /** Without search: ids in index order from the cursor on, then their rows (one more than the limit). */
  async listPage(applicationId: string, status: UserStatus | undefined, after: ListCursor | null, limit: number): Promise<UserViewRow[]> {
    const where = ['application_id = ?', ...(status ? [STATUS_SQL[status]] : []), ...(after ? [AFTER_CURSOR] : [])];
    return this.replicas.read((db) =>
      db.query(
        `SELECT ${VIEW_COLUMNS} FROM (
         SELECT id FROM connections FORCE INDEX (${LIST_INDEX[status ?? 'all']})
         WHERE ${where.join(' AND ')} ORDER BY joined_at DESC, id DESC LIMIT ?
       ) p JOIN connections c ON c.id = p.id JOIN users u ON u.id = c.user_id
       ORDER BY c.joined_at DESC, c.id DESC`,
        [applicationId, ...cursorParams(after), limit],
      ),
    );
  }

  /**
   * With search. `total` is exact up to SEARCH_TOTAL_EXACT_MAX matches; above,
   * it is that number with `totalIsLowerBound` (counting every match of a
   * broad term such as "Noah" cost ~50 ms a request at 1M connections). The
   * count reads at most that many entries per searched index. Up to the limit
   * the matches are sorted to pick the page (only the page's rows are read);
   * above it the page is taken by walking the (joined_at, id) index newest
   * first with the prefixes as a filter: with that many matches a page is
   * found after a short walk, without sorting them all.
   */
  async searchPage(
    applicationId: string,
    search: string,
    status: UserStatus | undefined,
    after: ListCursor | null,
    limit: number,
  ): Promise<{ rows: UserViewRow[]; total: number; totalIsLowerBound: boolean }> {
    const like = likePrefix(search);
    // Global IDs are ASCII (an ascii column): a term with any other character
    // cannot match one, and comparing it there would mix collations.
    const searched = /^[\x00-\x7f]*$/.test(search) ? SEARCHED : SEARCHED.filter(([column]) => column !== 'user_global_id');
    // Shared addresses are stored in their normal form and compared byte for byte (utf8mb4_bin).
    const likeFor = (column: string) => (column === 'shared_email' ? like.toLowerCase() : like);
    const matchParams = searched.flatMap(([column]) => [applicationId, likeFor(column)]);
    return this.replicas.read(async (db) => {
      const [{ n }]: { n: number | string }[] = await db.query(
        `SELECT COUNT(*) AS n FROM (${cappedMatchesSql(status, searched)}) m`,
        searched.flatMap(([column]) => [applicationId, likeFor(column), SEARCH_TOTAL_EXACT_MAX + 1]),
      );
      const matching = Number(n);
      if (matching > SEARCH_TOTAL_EXACT_MAX) {
        const where = [
          'application_id = ?',
          `(${searched.map(([column]) => `${column} LIKE ?`).join(' OR ')})`,
          ...(status ? [STATUS_SQL[status]] : []),
          ...(after ? [AFTER_CURSOR] : []),
        ];
        const rows: UserViewRow[] = await db.query(
          `SELECT ${VIEW_COLUMNS} FROM (
             SELECT id FROM connections FORCE INDEX (${LIST_INDEX[status ?? 'all']})
             WHERE ${where.join(' AND ')} ORDER BY joined_at DESC, id DESC LIMIT ?
           ) p JOIN connections c ON c.id = p.id JOIN users u ON u.id = c.user_id
           ORDER BY c.joined_at DESC, c.id DESC`,
          [applicationId, ...searched.map(([column]) => likeFor(column)), ...cursorParams(after), limit],
        );
        return { rows, total: SEARCH_TOTAL_EXACT_MAX, totalIsLowerBound: true };
      }
      if (matching === 0) return { rows: [], total: 0, totalIsLowerBound: false };
      const rows: UserViewRow[] = await db.query(
        `SELECT ${VIEW_COLUMNS} FROM (
           SELECT id, joined_at FROM (${matchesSql(status, searched)}) m
           ${after ? `WHERE ${AFTER_CURSOR}` : ''} ORDER BY joined_at DESC, id DESC LIMIT ?
         ) p JOIN connections c ON c.id = p.id JOIN users u ON u.id = c.user_id
         ORDER BY c.joined_at DESC, c.id DESC`,
        [...matchParams, ...cursorParams(after), limit],
      );
      return { rows, total: matching, totalIsLowerBound: false };
    });
  }

  async getView(applicationId: string, connectionId: string): Promise<UserViewRow | null> {
    const [row]: UserViewRow[] = await this.db.query(`SELECT ${VIEW_COLUMNS} FROM connections c JOIN users u ON u.id = c.user_id WHERE c.id = ? AND c.application_id = ?`, [
      connectionId,
      applicationId,
    ]);
    return row ?? null;
  }

  /** The user's apps, active first, most recently joined first. */
  async listForUser(userId: number): Promise<AccountAppRow[]> {
    return this.db.query(`SELECT ${APP_COLUMNS} FROM connections c ${APP_JOINS} WHERE c.user_id = ? ORDER BY c.active DESC, c.joined_at DESC, c.id DESC`, [userId]);
  }

  async getForUser(userId: number, connectionId: string): Promise<AccountAppRow | null> {
    const [row]: AccountAppRow[] = await this.db.query(`SELECT ${APP_COLUMNS} FROM connections c ${APP_JOINS} WHERE c.id = ? AND c.user_id = ?`, [connectionId, userId]);
    return row ?? null;
  }

  /** One connection under lock, scoped to an application or to a user; null when outside the scope. */
  async lock(m: EntityManager, scope: { applicationId: string } | { userId: number }, connectionId: string): Promise<LockedConnection | null> {
    const [row]: LockedConnection[] =
      'applicationId' in scope
        ? await m.query(`${LOCK_SELECT} WHERE id = ? AND application_id = ? FOR UPDATE`, [connectionId, scope.applicationId])
        : await m.query(`${LOCK_SELECT} WHERE id = ? AND user_id = ? FOR UPDATE`, [connectionId, scope.userId]);
    return row ?? null;
  }

  /** The user's connections that share this address, under lock. */
  async lockSharing(m: EntityManager, userId: number, email: string): Promise<LockedConnection[]> {
    return m.query(`${LOCK_SELECT} WHERE user_id = ? AND shared_email = ? FOR UPDATE`, [userId, email]);
  }

  /** Every connection of the user, under lock, in id order. */
  async lockAllOfUser(m: EntityManager, userId: number): Promise<LockedConnection[]> {
    return m.query(`${LOCK_SELECT} WHERE user_id = ? ORDER BY id FOR UPDATE`, [userId]);
  }

  async update(m: EntityManager, connectionId: string, set: ConnectionSet): Promise<void> {
    const columns = Object.keys(set) as (keyof ConnectionSet)[];
    await m.query(`UPDATE connections SET ${columns.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, [...columns.map((k) => set[k]), connectionId]);
  }

  /**
   * The developer's request to see an address replaces the connection's
   * earlier one; it is recorded only when `direct` (the relay address) or
   * when the address is a confirmed address of the user. The same two
   * statements run either way, so the answer takes as long whether the
   * address is the user's or not.
   */
  async replaceEmailRequest(m: EntityManager, c: { id: string; user_id: number }, email: string, direct: boolean): Promise<void> {
    await m.query(`DELETE FROM connection_email_requests WHERE connection_id = ?`, [c.id]);
    await m.query(
      `INSERT INTO connection_email_requests (connection_id, email) SELECT ?, ? FROM DUAL
       WHERE ? OR EXISTS (SELECT 1 FROM user_emails WHERE user_id = ? AND email = ? AND confirmed_at IS NOT NULL)`,
      [c.id, email, direct, c.user_id, email],
    );
  }

  /** The connection's pending email request, removed (the user answered it); null when there was none. */
  async takeEmailRequest(m: EntityManager, connectionId: string): Promise<string | null> {
    const [row]: { email: string }[] = await m.query(`SELECT email FROM connection_email_requests WHERE connection_id = ? FOR UPDATE`, [connectionId]);
    if (row) await m.query(`DELETE FROM connection_email_requests WHERE connection_id = ?`, [connectionId]);
    return row ? row.email : null;
  }

  /** The consent ends and its scopes are forgotten: a later consent starts from nothing. */
  async deactivate(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`UPDATE connections SET active = 0, scope = '' WHERE id = ?`, [connectionId]);
  }

  async delete(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`DELETE FROM connections WHERE id = ?`, [connectionId]);
  }

  /**
   * What the OIDC claims of a connection need: its shared and relay address,
   * the user's profile, and whether the shared address is a linked address
   * whose emailed link was followed.
   */
  async claimsSource(connectionId: string): Promise<ClaimsRow | null> {
    const [row]: ClaimsRow[] = await this.db.query(
      `SELECT c.id, c.shared_email, c.relay_local, u.global_id, u.name, u.image,
         EXISTS(SELECT 1 FROM user_emails e WHERE e.user_id = c.user_id AND e.email = c.shared_email AND e.confirmed_at IS NOT NULL) AS linked_verified
       FROM connections c JOIN users u ON u.id = c.user_id WHERE c.id = ?`,
      [connectionId],
    );
    return row ?? null;
  }

  /** The connections' copy of the user's name (the developer's search reads it). */
  async renameUser(m: EntityManager, userId: number, name: string): Promise<void> {
    await m.query(`UPDATE connections SET user_name = ? WHERE user_id = ?`, [name, userId]);
  }

  /**
   * One more session of a connection that is still consented and not blocked,
   * written directly: a code exchange's fallback while Redis is unreachable
   * (sessions are otherwise counted through SessionCounts); false when the
   * connection is not live, and nothing changes.
   */
  async recordSession(m: EntityManager, connectionId: string, applicationId: string): Promise<boolean> {
    const counted: { affectedRows: number } = await m.query(
      `UPDATE connections SET sessions = sessions + 1, last_session_at = GREATEST(COALESCE(last_session_at, UTC_TIMESTAMP(3)), UTC_TIMESTAMP(3))
       WHERE id = ? AND application_id = ? AND blocked = 0 AND active = 1`,
      [connectionId, applicationId],
    );
    return counted.affectedRows === 1;
  }
}
