import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { notFound, retryOnDeadlock } from '@app/common';
import { AccountsService, LinkedEmailsService } from '@app/identity';
import { WebhookOutbox } from '@app/webhooks';
import { AccountAppRow, ConnectionsRepository } from './connections.repository';
import { ConnectionStateService, EmailRequestOutcome } from './connection-state.service';
import { PendingSessions, SessionCounts, withPending } from './session-counts';

/** One app the user signed in to, as the account center shows it. */
export interface AccountAppView {
  connectionId: string;
  appName: string;
  logoUrl: string | null;
  joined: Date;
  lastUsed: Date | null;
  /** The address the app sees: the relay address, a linked address, or null. */
  sharedEmail: string | null;
  relayAddress: string;
  isForwarding: boolean;
  emailMuted: boolean;
  /** The user's consent stands (false after "Stop using LoginSign with this app"). */
  active: boolean;
  scopes: string[];
  /** The address the app asked to see, waiting for the user's allow or decline; null when none is (or it is no longer theirs to share). */
  emailRequest: string | null;
}

/** The email choice for one app: `relay`, `none`, or one of the user's confirmed addresses. */
export type ShareChoice = string;

/**
 * The end user's account center: the changes that cross identity and
 * connections (profile name copies, removing a shared address, revoking an
 * app, deleting the account). Connection changes go through
 * ConnectionStateService, the implementation the Developer Portal uses too.
 */
@Injectable()
export class AccountCenterService {
  constructor(
    private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly linkedEmails: LinkedEmailsService,
    private readonly repository: ConnectionsRepository,
    private readonly connections: ConnectionStateService,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessionCounts: SessionCounts,
  ) {}

  /** The user's apps, most recently joined first. */
  async listApps(userId: number): Promise<AccountAppView[]> {
    const { result: rows, pending } = await this.sessionCounts.readWithPending(
      () => this.repository.listForUser(userId),
      (found) => found.map((r) => r.id),
    );
    return rows.map((r) => this.toView(r, pending.get(r.id)));
  }

  async getApp(userId: number, connectionId: string): Promise<AccountAppView> {
    const { result: row, pending } = await this.sessionCounts.readWithPending(
      () => this.repository.getForUser(userId, String(connectionId).slice(0, 64)),
      (found) => (found ? [found.id] : []),
    );
    if (!row) throw notFound('The app');
    return this.toView(row, pending.get(row.id));
  }

  /** Name, image, region; the connections' copy of the name follows in the same transaction. */
  async updateProfile(userId: number, input: Record<string, unknown>): Promise<void> {
    await this.db.transaction(async (m) => {
      const { nameChanged, profile } = await this.accounts.updateProfile(m, userId, input);
      if (nameChanged) await this.repository.renameUser(m, userId, profile.name);
    });
  }

  /** Removes a linked address; apps that saw it see the relay address from now on (`user_email_changed`). */
  async removeEmail(userId: number, email: string): Promise<void> {
    await retryOnDeadlock(() =>
      this.outbox.transaction(async (m) => {
        const removed = await this.linkedEmails.remove(m, userId, email);
        return removed ? this.connections.unshareAddress(m, userId, email.trim().toLowerCase()) : [];
      }),
    );
  }

  /** Which address one app sees (`user_email_changed` when it changes). */
  async shareEmail(userId: number, connectionId: string, share: ShareChoice): Promise<void> {
    const app = await this.getApp(userId, connectionId);
    const appEmail = share === 'relay' ? app.relayAddress : share === 'none' ? '' : share;
    await this.connections.updateForUser(userId, connectionId, { appEmail });
  }

  /** The user's answer to the app's request to see an address (ConnectionStateService.answerEmailRequest). */
  async answerEmailRequest(userId: number, connectionId: string, allow: boolean): Promise<EmailRequestOutcome> {
    return this.connections.answerEmailRequest(userId, connectionId, allow);
  }

  async setForwarding(userId: number, connectionId: string, isForwarding: boolean): Promise<void> {
    await this.connections.updateForUser(userId, connectionId, { isForwarding });
  }

  async setMuted(userId: number, connectionId: string, emailMuted: boolean): Promise<void> {
    await this.connections.updateForUser(userId, connectionId, { emailMuted });
  }

  async revokeApp(userId: number, connectionId: string): Promise<void> {
    await this.connections.revokeConsent(userId, connectionId);
  }

  /**
   * Deletes the account after the password is confirmed: every connection is
   * closed (`user_account_deleted` to each app) in the transaction that
   * deletes the user (linked addresses, pending links, tokens go by cascade);
   * the events are dispatched after commit. The Global ID is never reused
   * (the sequence only moves forward); the addresses are free to sign up again.
   * Signing out the sessions is the caller's part.
   */
  async deleteAccount(userId: number, password: unknown, ip: string): Promise<void> {
    await this.accounts.confirmPassword(userId, password, ip);
    const noticeTo = await this.accounts.noticeAddress(userId);
    // Several applications' counters in one transaction: retried whole on a deadlock.
    await retryOnDeadlock(() =>
      this.outbox.transaction(async (m) => {
        const ids = await this.connections.closeAllForUser(m, userId);
        await this.accounts.deleteUser(m, userId);
        return ids;
      }),
    );
    if (noticeTo) await this.accounts.notifyDeleted(userId, noticeTo);
  }

  /** `lastUsed` includes a session still pending in Redis (SessionCounts). */
  private toView(r: AccountAppRow, pending?: PendingSessions): AccountAppView {
    const relayAddress = `${r.relay_local}@${this.config.relayDomain}`;
    const shareable = r.requested_email === relayAddress || Number(r.requested_confirmed) === 1;
    return {
      connectionId: r.id,
      appName: r.app_name,
      logoUrl: r.logo_url,
      joined: r.joined_at,
      lastUsed: withPending({ sessions: 0, lastAt: r.last_session_at }, pending).lastAt,
      sharedEmail: r.shared_email,
      relayAddress,
      isForwarding: !!r.is_forwarding,
      emailMuted: !!r.email_muted,
      active: !!r.active,
      scopes: r.scope ? String(r.scope).split(' ') : [],
      emailRequest: shareable && r.requested_email !== r.shared_email ? r.requested_email : null,
    };
  }
}
