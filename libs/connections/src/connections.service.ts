import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AccessChangeSignals, AccessSnapshot, isDeadlock, isDuplicateKey, randomAlnum, randomId, SignalledCache } from '@app/common';
import { WebhookOutbox } from '@app/webhooks';
import { ConnectionRow, ConnectionsRepository, UserCountBucket } from './connections.repository';

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
  /**
   * As MySQL has them: sessions still pending in Redis are not added here (the
   * consent flow reads connections inside its transaction and shows no count);
   * displayed counts go through ApplicationUsersService / AccountCenterService.
   */
  sessions: number;
  lastSession: Date | null;
  joined: Date;
}

/** What an authorization request needs of a connection: whose it is, whether it is blocked, what the user consented to. */
export interface ConsentState {
  id: string;
  blocked: boolean;
  active: boolean;
  scopes: string[];
}

/** ~60,000 returning users' consent states per process; least recently used go first. */
const CONSENT_CACHE_BYTES = 16 * 1024 * 1024;
/** An upper bound on an entry's life; the change signals end it as soon as anything changes. */
const CONSENT_CACHE_MS = 10 * 60_000;

/** The user's email choice on the consent page. */
export type EmailShare = { kind: 'relay' } | { kind: 'none' } | { kind: 'address'; email: string };

/**
 * Two first consents of one user race (duplicate key), or two first consents
 * to one application deadlock on the unique index's gap locks: both are safe
 * to retry from the start of the transaction.
 */
const isRetryable = (error: unknown) => isDuplicateKey(error) || isDeadlock(error);

export function countBucket(c: { active: boolean; blocked: boolean }): UserCountBucket {
  return c.blocked ? 'blocked' : c.active ? 'active' : 'inactive';
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly db: DataSource,
    private readonly connections: ConnectionsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: WebhookOutbox,
    private readonly signals: AccessChangeSignals,
  ) {}

  private readonly consents = new SignalledCache<ConsentState>(CONSENT_CACHE_BYTES, (c) => 128 + 2 * c.id.length + 24 * c.scopes.length);

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
    const row = await this.connections.find(applicationId, userId, manager, lock);
    return row ? this.toConnection(row) : null;
  }

  /**
   * The consent state of a returning user at /oauth/authorize, answered from
   * memory while the change signals of the user and the application hold
   * (every write to a connection raises its user's signal before it commits:
   * consent, reactivation, "Stop using", blocking, deletion), so a sign-in of
   * a returning user reads no MySQL. Same reasoning as the token lookups
   * (TokensService.lookup): signals read before the query, cached under them.
   */
  async consentState(applicationId: string, userId: number): Promise<ConsentState | null> {
    const key = `${applicationId}:${userId}`;
    let now: AccessSnapshot | null = null;
    try {
      now = await this.signals.read(userId, applicationId);
    } catch {
      // Redis unreachable: MySQL answers (correct, slower).
    }
    const hit = now && this.consents.get(key, now);
    if (hit) return hit;
    const found = await this.find(applicationId, userId);
    if (!found) {
      this.consents.delete(key);
      return null;
    }
    const state: ConsentState = { id: found.id, blocked: found.blocked, active: found.active, scopes: found.scopes };
    const versions = now && (await this.signals.versionsFor(now).catch(() => null));
    if (versions) this.consents.set(key, state, versions, Date.now() + CONSENT_CACHE_MS);
    return state;
  }

  /**
   * Records the user's consent: creates the connection at the first consent
   * (new opaque id, new relay address, `user_connected` event) or re-activates
   * it with the newly chosen address. The consent covers exactly the scopes
   * the user was shown, never a union with older ones. The counters
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
          // Live tokens see the newly chosen address; cached consent states (consentState) the new scopes.
          this.signals.userChanged(m, userId);
          if (existing) {
            const sharedEmail = this.sharedEmail(share, existing.relayAddress);
            // The consent covers exactly the scopes shown now, never a union with an earlier one.
            await this.connections.reactivate(m, existing.id, userId, [...scopes].sort().join(' '), sharedEmail, share.kind === 'none');
            await this.connections.moveUserCount(m, applicationId, countBucket(existing), countBucket({ ...existing, active: true }));
          } else {
            const id = randomId('c');
            const relayLocal = await this.reserveRelayLocal(m);
            const user = await this.connections.userCopy(m, userId);
            await this.connections.insert(m, {
              id,
              applicationId,
              userId,
              globalId: user.global_id,
              name: user.name,
              relayLocal,
              sharedEmail: this.sharedEmail(share, `${relayLocal}@${this.config.relayDomain}`),
              emailWithheld: share.kind === 'none',
              scope: scopes.join(' '),
            });
            await this.connections.moveUserCount(m, applicationId, null, 'active');
            eventId = await this.outbox.record(m, 'user_connected', { applicationId, connectionId: id, globalId: user.global_id });
          }
          return { connection: (await this.find(applicationId, userId, m))!, eventId };
        });
        await this.outbox.dispatch([eventId]);
        return connection;
      } catch (error: unknown) {
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
      if (await this.connections.reserveRelayLocal(m, local)) return local;
    }
    throw new Error('Could not find a free relay address in 10 attempts');
  }
}
