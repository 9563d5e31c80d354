import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decodeCursor, encodeCursor, isoUtc, notFound } from '@app/common';
import { ConnectionsRepository, ListCursor, UserStatus, UserViewRow } from './connections.repository';
import { ConnectionStateService, UserChanges } from './connection-state.service';
import { PendingSessions, SessionCounts, withPending } from './session-counts';

/** A user of an application as the developer sees it. */
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

export type { UserStatus } from './connections.repository';
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
  /** Present (true) when a search matched more than SEARCH_TOTAL_EXACT_MAX users: `total` is then that limit ("1,000+"). */
  totalIsLowerBound?: true;
  nextCursor: string | null;
}

/**
 * The developer's users of one application: the list and search (the read
 * side) and the developer's entry points to the write side
 * (ConnectionStateService), which answer with the changed view. Callers pass
 * an application id they have already checked belongs to the developer;
 * every query is also scoped by it, so a connection of another application is 404.
 */
@Injectable()
export class ApplicationUsersService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly state: ConnectionStateService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessionCounts: SessionCounts,
  ) {}

  private cursorKey() {
    return this.config.secrets.sessionSecret;
  }

  /**
   * Newest `joined` first (ties: id desc), keyset-paginated; the page in one
   * query; `total` from the counters (O(1)) or, with a search, counted up to SEARCH_TOTAL_EXACT_MAX (above: that number, `totalIsLowerBound`).
   */
  async list(applicationId: string, query: UserListQuery): Promise<UserList> {
    const after: ListCursor | null = query.cursor !== undefined ? decodeCursor(this.cursorKey(), query.cursor) : null;
    const {
      result: { rows, total, totalIsLowerBound },
      pending,
    } = await this.sessionCounts.readWithPending(
      async () =>
        query.search
          ? await this.connections.searchPage(applicationId, query.search, query.status, after, query.limit + 1)
          : { ...(await this.plainPage(applicationId, query, after)), totalIsLowerBound: false },
      (found) => found.rows.slice(0, query.limit).map((r) => r.id),
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      users: page.map((r) => this.toView(r, pending.get(r.id))),
      total,
      ...(totalIsLowerBound ? { totalIsLowerBound: true as const } : {}),
      nextCursor: rows.length > query.limit ? encodeCursor(this.cursorKey(), last.joined_at, last.id) : null,
    };
  }

  private async plainPage(applicationId: string, query: UserListQuery, after: ListCursor | null): Promise<{ rows: UserViewRow[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.connections.listPage(applicationId, query.status, after, query.limit + 1),
      this.connections.countAll(applicationId, query.status),
    ]);
    return { rows, total };
  }

  async get(applicationId: string, connectionId: string): Promise<DeveloperUserView> {
    const { result: row, pending } = await this.sessionCounts.readWithPending(
      () => this.connections.getView(applicationId, connectionId),
      (found) => (found ? [found.id] : []),
    );
    if (!row) throw notFound('The user');
    return this.toView(row, pending.get(row.id));
  }

  /** The developer's PATCH: the change (ConnectionStateService.update), then the user as it now is. */
  async update(applicationId: string, connectionId: string, changes: UserChanges): Promise<DeveloperUserView> {
    await this.state.update(applicationId, connectionId, changes);
    return this.get(applicationId, connectionId);
  }

  /** The developer's DELETE (ConnectionStateService.close). */
  async close(applicationId: string, connectionId: string): Promise<void> {
    await this.state.close(applicationId, connectionId);
  }

  /** The row with the sessions still pending in Redis added (SessionCounts): exact right after an exchange. */
  private toView(r: UserViewRow, pending?: PendingSessions): DeveloperUserView {
    const counted = withPending({ sessions: Number(r.sessions), lastAt: r.last_session_at }, pending);
    return {
      id: r.id,
      globalId: r.user_global_id,
      name: r.name,
      email: r.shared_email ?? '-',
      active: !!r.active,
      blocked: !!r.blocked,
      emailMuted: !!r.email_muted,
      isForwarding: !!r.is_forwarding,
      sessions: counted.sessions,
      lastSession: isoUtc(counted.lastAt),
      joined: isoUtc(r.joined_at)!,
      region: r.region,
    };
  }
}
