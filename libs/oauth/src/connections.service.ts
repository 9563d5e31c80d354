import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { randomAlnum, randomId } from '@app/common';

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

const isDuplicate = (error: unknown) => (error as { code?: string })?.code === 'ER_DUP_ENTRY';

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private toConnection(row: Record<string, any>): Connection {
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
    const rows = await manager.query(
      `SELECT ${COLUMNS} FROM connections WHERE application_id = ? AND user_id = ?${lock ? ' FOR UPDATE' : ''}`,
      [applicationId, userId],
    );
    return rows.length ? this.toConnection(rows[0]) : null;
  }

  /**
   * Records the user's consent: creates the connection at the first consent
   * (new opaque id, new relay address) or re-activates it with the union of
   * scopes and the newly chosen address.
   */
  async grantConsent(applicationId: string, userId: number, scopes: string[], share: EmailShare): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction(async (m) => {
          const existing = await this.find(applicationId, userId, m, true);
          if (existing) {
            const merged = [...new Set([...existing.scopes, ...scopes])].sort().join(' ');
            await m.query(`UPDATE connections SET active = 1, scope = ?, shared_email = ? WHERE id = ?`, [
              merged,
              this.sharedEmail(share, existing.relayAddress),
              existing.id,
            ]);
          } else {
            const relayLocal = await this.reserveRelayLocal(m);
            await m.query(
              `INSERT INTO connections (id, application_id, user_id, relay_local, shared_email, scope) VALUES (?, ?, ?, ?, ?, ?)`,
              [randomId('c'), applicationId, userId, relayLocal, this.sharedEmail(share, `${relayLocal}@${this.config.relayDomain}`), scopes.join(' ')],
            );
          }
          return (await this.find(applicationId, userId, m))!;
        });
      } catch (error) {
        // Two consents of the same user racing: the loser retries and updates.
        if (isDuplicate(error) && attempt < 2) continue;
        throw error;
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
