import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AccessChangeSignals, AppError, notFound, parseEmail, retryOnDeadlock } from '@app/common';
import { LinkedEmailsService } from '@app/identity';
import { WebhookOutbox, WebhookEventType } from '@app/webhooks';
import { countBucket } from './connections.service';
import { ConnectionSet, ConnectionsRepository, LockedConnection } from './connections.repository';

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

type PendingEvent = [WebhookEventType, Record<string, unknown>];

/** What answering an app's email request did: shared it, dropped it, or nothing to answer (none pending, or the address is no longer the user's). */
export type EmailRequestOutcome = 'shared' | 'declined' | 'gone';

/**
 * Ends what a connection's tokens grant: every access token and refresh token
 * family of the connection, in the caller's transaction. The OAuth lib owns
 * the token tables and registers the implementation (see docs/architecture.md).
 */
export interface ConnectionGrantRevoker {
  revokeConnection(m: EntityManager, connectionId: string): Promise<void>;
}

/**
 * The write side of connection state, for developers and end users alike:
 * forwarding, mute, the shared address, blocking, consent revocation and
 * closure. Each change locks the row, moves the counters and records its
 * events in one transaction, and dispatches the events after commit. A scope
 * (the developer's application, or the user's own account) bounds every
 * change: a connection outside it is 404.
 */
@Injectable()
export class ConnectionStateService {
  private revoker: ConnectionGrantRevoker | null = null;

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly linkedEmails: LinkedEmailsService,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signals: AccessChangeSignals,
  ) {}

  /** Called once by the lib that owns the token tables. */
  useGrantRevoker(revoker: ConnectionGrantRevoker): void {
    this.revoker = revoker;
  }

  /**
   * The developer's changes, in one transaction: counters when `blocked`
   * changes, token revocation when blocking, and one event per field that
   * really changed (a no-op PATCH records nothing). `appEmail` takes effect
   * only as "" or as the relay address (unless the user chose "Don't
   * share"); any other address becomes a request the user answers in the
   * account center, recorded only when it is a confirmed address of the user,
   * and the developer's answer is the same either way.
   */
  async update(applicationId: string, connectionId: string, changes: UserChanges): Promise<void> {
    if (changes.isForwarding === undefined && changes.appEmail === undefined && changes.blocked === undefined) {
      throw new AppError('invalid_request', 'Send at least one of isForwarding, appEmail or blocked.');
    }
    const asked = changes.appEmail === undefined ? undefined : this.parseAppEmail(changes.appEmail);
    // Retried whole on a deadlock: blocking moves the per-app counters.
    await retryOnDeadlock(() =>
      this.outbox.transaction(async (m) => {
        const c = await this.lock(m, { applicationId }, connectionId);
        const relay = this.relayAddress(c);
        const direct = asked === null || (asked === relay && !c.email_withheld);
        if (asked !== undefined && !direct && asked !== c.shared_email) await this.connections.replaceEmailRequest(m, c, asked, asked === relay);
        return this.applyChanges(m, c, { ...changes, appEmail: direct ? (asked ?? '') : undefined });
      }),
    );
  }

  /**
   * The user's answer to the app's pending email request: allow shares the
   * address if it is still the relay address or a confirmed address of the
   * user (checked now, not when it was asked); either answer removes it.
   */
  async answerEmailRequest(userId: number, connectionId: string, allow: boolean): Promise<EmailRequestOutcome> {
    let outcome: EmailRequestOutcome = 'gone';
    await this.outbox.transaction(async (m) => {
      const c = await this.lock(m, { userId }, connectionId);
      const requested = await this.connections.takeEmailRequest(m, c.id);
      if (requested === null) return [];
      if (!allow) {
        outcome = 'declined';
        return [];
      }
      const email = requested === this.relayAddress(c) ? requested : await this.linkedEmails.findConfirmed(m, c.user_id, requested);
      if (email === null) return [];
      outcome = 'shared';
      return this.applyChanges(m, c, { appEmail: email }, true);
    });
    return outcome;
  }

  /**
   * The same changes made by the end user from the account center (their
   * shared address, forwarding, mute): the one implementation the developer's
   * PATCH uses, scoped to the user's own connections.
   */
  async updateForUser(userId: number, connectionId: string, changes: Omit<UserChanges, 'blocked'>): Promise<void> {
    await this.change({ userId }, connectionId, { isForwarding: changes.isForwarding, appEmail: changes.appEmail, emailMuted: changes.emailMuted }, true);
  }

  /** Locks, changes and records the events in one transaction; dispatches them after commit. */
  private async change(scope: ConnectionScope, connectionId: string, changes: UserChanges, byUser = false): Promise<void> {
    await retryOnDeadlock(() =>
      this.outbox.transaction(async (m) => {
        const c = await this.lock(m, scope, connectionId);
        return this.applyChanges(m, c, changes, byUser);
      }),
    );
  }

  /** `byUser`: the user's own choice of address, which also records whether they chose "Don't share". */
  private async applyChanges(m: EntityManager, c: LockedConnection, changes: UserChanges, byUser = false): Promise<(string | null)[]> {
    const applicationId = c.application_id;
    const set: ConnectionSet = {};
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
      if (byUser && (email === null) !== !!c.email_withheld) set.email_withheld = email === null;
    }
    const blocking = changes.blocked !== undefined && changes.blocked !== !!c.blocked;
    if (blocking) {
      set.blocked = changes.blocked;
      events.push([changes.blocked ? 'user_blocked' : 'user_unblocked', {}]);
    }
    if (Object.keys(set).length === 0) return [];

    await this.connections.update(m, c.id, set);
    // The app's tokens see the shared address and blocking, cached consent states blocking (either
    // way); forwarding and mute change no cached answer, so they need only MySQL.
    if (set.shared_email !== undefined || blocking) this.signals.userChanged(m, c.user_id);
    if (blocking) {
      const before = { active: !!c.active, blocked: !!c.blocked };
      await this.connections.moveUserCount(m, applicationId, countBucket(before), countBucket({ ...before, blocked: changes.blocked! }));
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
    // Retried whole on a deadlock: the counters are still shared rows (see moveUserCount).
    await retryOnDeadlock(() => this.revokeConsentOnce(userId, connectionId));
  }

  private async revokeConsentOnce(userId: number, connectionId: string): Promise<void> {
    await this.outbox.transaction(async (m) => {
      const c = await this.lock(m, { userId }, connectionId);
      if (!c.active) return [];
      this.signals.userChanged(m, c.user_id);
      await this.connections.deactivate(m, c.id);
      await this.revokeTokens(m, c.id);
      const before = { active: true, blocked: !!c.blocked };
      await this.connections.moveUserCount(m, c.application_id, countBucket(before), countBucket({ ...before, active: false }));
      return this.recordAll(m, c, [['user_consent_revoked', {}]]);
    });
  }

  /**
   * A linked address the user removes stops being shared: connections that
   * saw it see the relay address instead (`user_email_changed`). Runs in the
   * caller's transaction; returns the events to dispatch after commit.
   */
  async unshareAddress(m: EntityManager, userId: number, email: string): Promise<(string | null)[]> {
    const rows = await this.connections.lockSharing(m, userId, email);
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
    await retryOnDeadlock(() => this.outbox.transaction(async (m) => this.closeLocked(m, await this.lock(m, { applicationId }, connectionId))));
  }

  /**
   * Every connection of a user closed as in `close` (`user_account_deleted`
   * to each app), in the caller's transaction: the account deletion.
   * Returns the events to dispatch after commit.
   */
  async closeAllForUser(m: EntityManager, userId: number): Promise<(string | null)[]> {
    const rows = await this.connections.lockAllOfUser(m, userId);
    const ids: (string | null)[] = [];
    for (const c of rows) ids.push(...(await this.closeLocked(m, c)));
    return ids;
  }

  private async closeLocked(m: EntityManager, c: LockedConnection): Promise<(string | null)[]> {
    const ids = await this.recordAll(m, c, [['user_account_deleted', {}]]);
    this.signals.userChanged(m, c.user_id);
    await this.connections.delete(m, c.id);
    await this.connections.moveUserCount(m, c.application_id, countBucket({ active: !!c.active, blocked: !!c.blocked }), null);
    return ids;
  }

  private async revokeTokens(m: EntityManager, connectionId: string): Promise<void> {
    if (!this.revoker) throw new Error('No grant revoker registered: import the OAuth module in this app');
    await this.revoker.revokeConnection(m, connectionId);
  }

  private async recordAll(m: EntityManager, c: LockedConnection, events: PendingEvent[]): Promise<(string | null)[]> {
    const base = { applicationId: c.application_id, connectionId: c.id, globalId: c.user_global_id };
    const ids: (string | null)[] = [];
    for (const [type, data] of events) ids.push(await this.outbox.record(m, type, { ...base, ...data }));
    return ids;
  }

  private async lock(m: EntityManager, scope: ConnectionScope, connectionId: string): Promise<LockedConnection> {
    const row = await this.connections.lock(m, scope, connectionId);
    if (!row) throw notFound('applicationId' in scope ? 'The user' : 'The app');
    return row;
  }

  /** `appEmail` as given: null for "", else the address in its normal form; a malformed one is 400. */
  private parseAppEmail(appEmail: string): string | null {
    if (appEmail.trim() === '') return null;
    const email = parseEmail(appEmail);
    if (email === null) throw new AppError('invalid_request', 'appEmail must be an email address or "".');
    return email;
  }

  private relayAddress(c: LockedConnection): string {
    return `${c.relay_local}@${this.config.relayDomain}`;
  }

  /** What `appEmail` stores: null for "", the relay address, or a confirmed address of the user; else 400. */
  private async shareableEmail(m: EntityManager, c: LockedConnection, appEmail: string): Promise<string | null> {
    const email = this.parseAppEmail(appEmail);
    if (email === null) return null;
    const relay = this.relayAddress(c);
    if (email === relay) return relay;
    const linked = await this.linkedEmails.findConfirmed(m, c.user_id, email);
    if (linked === null) throw new AppError('invalid_request', 'Choose one of your confirmed addresses, the relay address, or none.');
    return linked;
  }
}
