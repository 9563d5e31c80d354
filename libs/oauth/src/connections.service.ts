import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { randomAlnum, randomId } from '@app/common';
import { WebhookOutbox } from '@app/webhooks';

/** One user's relationship with one application. */
export interface Connection {
  id: string;
  applicationId: string;
  userId: number;
  relayAddress: string;
  /** The address this app sees: the relay address, a linked address, or null. */
  sharedEmail: string | null;
  scopes: string[];
  isForwarding: boolean;
  emailMuted: boolean;
  blocked: boolean;
  active: boolean;
  sessions: number;
  lastSession: Date | null;
  joined: Date;
}

/** The user's email choice on the consent page. */
export type EmailShare = { kind: 'relay' } | { kind: 'none' } | { kind: 'address'; email: string };

const COLUMNS = `id, application_id, user_id, relay_local, shared_email, scope, is_forwarding, email_muted, blocked, active, sessions, last_session_at, joined_at`;

/** A connections row as COLUMNS selects it (MySQL booleans are 0/1). */
interface ConnectionRow {
  id: string;
  application_id: string;
  user_id: number;
  relay_local: string;
  shared_email: string | null;
  scope: string;
  is_forwarding: number;
  email_muted: number;
  blocked: number;
  active: number;
  sessions: number;
  last_session_at: Date | null;
  joined_at: Date;
}

const isDuplicate = (error: unknown) => (error as { code?: string })?.code === 'ER_DUP_ENTRY';
/**
 * Two first consents of one user race (duplicate key), or two first consents
 * to one application deadlock on the unique index's gap locks: both are safe
 * to retry from the start of the transaction.
 */
const isRetryable = (error: unknown) => isDuplicate(error) || (error as { code?: string })?.code === 'ER_LOCK_DEADLOCK';

/** The counter of `application_user_counts` a connection is counted in. */
export type UserCountBucket = 'active' | 'inactive' | 'blocked';

export function countBucket(c: { active: boolean; blocked: boolean }): UserCountBucket {
  return c.blocked ? 'blocked' : c.active ? 'active' : 'inactive';
}

/**
 * Moves one connection between the per-application counters (`null` = it was
 * created / deleted). Run it in the transaction that changes the connection,
 * so the developer's `total` stays exact without COUNT(*) over the table.
 */
export async function moveUserCount(m: EntityManager, applicationId: string, from: UserCountBucket | null, to: UserCountBucket | null): Promise<void> {
  if (from === to) return;
  const delta = { active: 0, inactive: 0, blocked: 0 };
  if (from) delta[from] -= 1;
  if (to) delta[to] += 1;
  // An upsert: applications created after the migration have no row until their first user.
  await m.query(
    `INSERT INTO application_user_counts (application_id, active, inactive, blocked) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE active = active + VALUES(active), inactive = inactive + VALUES(inactive), blocked = blocked + VALUES(blocked)`,
    [applicationId, delta.active, delta.inactive, delta.blocked],
  );
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: WebhookOutbox,
  ) {}

  private toConnection(row: ConnectionRow): Connection {
    return {
      id: row.id,
      applicationId: row.application_id,
      userId: Number(row.user_id),
      relayAddress: `${row.relay_local}@${this.config.relayDomain}`,
      sharedEmail: row.shared_email,
      scopes: row.scope ? String(row.scope).split(' ') : [],
      isForwarding: !!row.is_forwarding,
      emailMuted: !!row.email_muted,
      blocked: !!row.blocked,
      active: !!row.active,
      sessions: Number(row.sessions),
      lastSession: row.last_session_at,
      joined: row.joined_at,
    };
  }

  async find(applicationId: string, userId: number, manager: EntityManager = this.db.manager, lock = false): Promise<Connection | null> {
    const rows = await manager.query<ConnectionRow[]>(
      `SELECT ${COLUMNS} FROM connections WHERE application_id = ? AND user_id = ?${lock ? ' FOR UPDATE' : ''}`,
      [applicationId, userId],
    );
    return rows.length ? this.toConnection(rows[0]) : null;
  }

  /**
   * Records the user's consent: creates the connection at the first consent
   * (new opaque id, new relay address, `user_connected` event) or re-activates
   * it with the union of scopes and the newly chosen address. The counters
   * move in the same transaction.
   */
  async grantConsent(applicationId: string, userId: number, scopes: string[], share: EmailShare): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { connection, eventId } = await this.db.transaction(async (m) => {
          // Lock only a row that exists: FOR UPDATE on a missing key takes a gap
          // lock on the unique index, and concurrent first consents to one
          // application then deadlock on each other's inserts.
          const seen = await this.find(applicationId, userId, m);
          const existing = seen && (await this.find(applicationId, userId, m, true));
          let eventId: string | null = null;
          if (existing) {
            const merged = [...new Set([...existing.scopes, ...scopes])].sort().join(' ');
            // The name copy is refreshed too, so the developer's search follows renames.
            await m.query(
              `UPDATE connections SET active = 1, scope = ?, shared_email = ?, user_name = (SELECT name FROM users WHERE id = ?) WHERE id = ?`,
              [merged, this.sharedEmail(share, existing.relayAddress), userId, existing.id],
            );
            await moveUserCount(m, applicationId, countBucket(existing), countBucket({ ...existing, active: true }));
          } else {
            const id = randomId('c');
            const relayLocal = await this.reserveRelayLocal(m);
            const [user] = await m.query<{ global_id: string; name: string }[]>(`SELECT global_id, name FROM users WHERE id = ?`, [userId]);
            // Global ID and name are copied for the developer's per-application search indexes.
            await m.query(
              `INSERT INTO connections (id, application_id, user_id, user_global_id, user_name, relay_local, shared_email, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
              [id, applicationId, userId, user.global_id, user.name, relayLocal, this.sharedEmail(share, `${relayLocal}@${this.config.relayDomain}`), scopes.join(' ')],
            );
            await moveUserCount(m, applicationId, null, 'active');
            eventId = await this.outbox.record(m, 'user_connected', { applicationId, connectionId: id, globalId: user.global_id });
          }
          return { connection: (await this.find(applicationId, userId, m))!, eventId };
        });
        await this.outbox.dispatch([eventId]);
        return connection;
      } catch (error) {
        // Two consents of the same user racing: the loser retries and updates.
        if (!isRetryable(error) || attempt >= 5) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
      }
    }
  }

  private sharedEmail(share: EmailShare, relayAddress: string): string | null {
    if (share.kind === 'relay') return relayAddress;
    if (share.kind === 'address') return share.email;
    return null;
  }

  /** A relay local part never handed out before (relay_addresses keeps every one forever). */
  private async reserveRelayLocal(m: EntityManager): Promise<string> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const local = randomAlnum(6);
      try {
        await m.query(`INSERT INTO relay_addresses (local_part) VALUES (?)`, [local]);
        return local;
      } catch (error) {
        if (!isDuplicate(error)) throw error;
      }
    }
    throw new Error('Could not find a free relay address in 10 attempts');
  }
}
