import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import Redis from 'ioredis';
import { AccessChangeSignals, AppError, isDuplicateKey, normalizeEmail, parseEmail, randomToken, REDIS, retryOnDeadlock, sha256, sha256Hex, takeSlot } from '@app/common';
import { MailerService } from '../mail/mailer.service';
import { AccountNoticesService } from '../notices/account-notices.service';
import { LIMITS } from './limits';
import { EmailVerificationsRepository } from './email-verifications.repository';
import { UserEmailsRepository } from './user-emails.repository';

/** A verification link works for 24 hours, once. */
export const EMAIL_LINK_TTL_SECONDS = 24 * 3600;
/**
 * Links a user may request per 24 hours, and links one address may receive
 * per 24 hours (each one is a mail we send). Counted in Redis windows that
 * expire on their own: deleting expired links never resets them.
 */
export const EMAIL_LINKS_PER_DAY = 10;

export interface PendingEmail {
  email: string;
  expiresAt: Date;
}

export interface LinkedAddress {
  email: string;
  isPrimary: boolean;
}

const otherAccount = () => new AppError('forbidden', 'This link belongs to another LoginSign account. Sign out, then sign in to the account it was sent for.');

const invalidLink = () => new AppError('invalid_request', 'This link is invalid, has expired or was already used. Add the address again to get a new one.');

/**
 * Linked addresses beyond the sign-up one: a user asks to add an address,
 * we mail a link (32 random bytes, stored as SHA-256, single use, 24 h),
 * following it links the address. Plus removal and the primary choice.
 */
@Injectable()
export class LinkedEmailsService {
  constructor(
    private readonly db: DataSource,
    private readonly emails: UserEmailsRepository,
    private readonly verifications: EmailVerificationsRepository,
    private readonly mailer: MailerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly notices: AccountNoticesService,
    private readonly signals: AccessChangeSignals,
  ) {}

  /** Counts one mail for the address, and for the user unless it is the sign-up mail; 429 when a window had its daily share. */
  private async takeSendSlot(userId: number, email: string, signUp = false): Promise<void> {
    const limited = () => new AppError('rate_limited', 'Too many verification emails today. Try again tomorrow.');
    if (!signUp && !(await takeSlot(this.redis, `mail-sent:user:${userId}`, EMAIL_LINKS_PER_DAY, 24 * 3600))) throw limited();
    if (!(await takeSlot(this.redis, `mail-sent:addr:${sha256Hex(email)}`, EMAIL_LINKS_PER_DAY, 24 * 3600))) throw limited();
  }

  /** Stores a fresh link for the address (older ones of it stop working) and mails it. */
  /** `newAccount`: the account was created in this request, so it has no earlier link to expire. */
  private async mailLink(userId: number, email: string, signUp: boolean, newAccount = false): Promise<void> {
    const token = randomToken(32);
    // Expiring earlier links locks the index gap where a new account's links would be: concurrent sign-ups
    // deadlocked there, so a new account skips it. Elsewhere a deadlock victim runs again.
    await retryOnDeadlock(() =>
      this.db.transaction(async (m) => {
        if (!newAccount) await this.expirePending(m, userId, email);
        await this.verifications.insert(m, userId, email, sha256(token), EMAIL_LINK_TTL_SECONDS);
      }),
    );
    const link = `${this.config.publicUrl}/account/emails/verify?${new URLSearchParams({ token })}`;
    const why = signUp ? `A LoginSign account was created with ${email}.` : `Someone (hopefully you) asked to link ${email} to a LoginSign account.`;
    await this.mailer.send({
      to: email,
      subject: 'Confirm your email address for LoginSign',
      text: `${why}\n\nTo confirm, open this link within 24 hours and sign in to that account:\n\n${link}\n\nIf this was not you, ignore this email: nothing changes.\n`,
    });
  }

  /**
   * Mails a confirmation link for the primary (sign-up) address; sign-up and
   * the account center's "send again". 400 when it is confirmed already.
   */
  async sendPrimaryConfirmation(userId: number, atSignUp = false): Promise<string> {
    const primary = await this.emails.primaryState(userId);
    if (!primary) throw new AppError('not_found', 'The account was not found.');
    if (primary.confirmed) throw new AppError('invalid_request', 'Your primary address is confirmed already.');
    await this.takeSendSlot(userId, primary.email, atSignUp);
    await this.mailLink(userId, primary.email, true, atSignUp);
    return primary.email;
  }

  /** Whether a link for this address of the user is live (a new link for it adds nothing new). */
  async isPending(userId: number, rawEmail: string): Promise<boolean> {
    const email = parseEmail(rawEmail);
    if (email === null) return false;
    return (await this.verifications.pending(userId)).some((p) => p.email === email);
  }

  /** Whether the primary address still waits for its confirmation. */
  async primaryUnconfirmed(userId: number): Promise<string | null> {
    const primary = await this.emails.primaryState(userId);
    return primary && !primary.confirmed ? primary.email : null;
  }

  /** The user's linked addresses (primary first) and the ones waiting for their link. */
  async list(userId: number): Promise<{ linked: LinkedAddress[]; pending: PendingEmail[] }> {
    const [linked, pending] = await Promise.all([this.emails.linked(userId), this.verifications.pending(userId)]);
    return {
      linked: linked.map((r) => ({ email: r.email, isPrimary: !!r.is_primary })),
      pending: pending.map((r) => ({ email: r.email, expiresAt: r.expires_at })),
    };
  }

  /**
   * Mails a verification link for `rawEmail`. The address is not linked (nor
   * reserved) until the link is followed. A new request for the same address
   * replaces the earlier link.
   */
  async requestLink(userId: number, rawEmail: string): Promise<string> {
    const email = parseEmail(rawEmail);
    if (email === null || email.length > LIMITS.emailMax) throw new AppError('invalid_request', 'Enter a valid email address.');
    const owner = await this.emails.linkedOwner(email);
    if (owner !== null) {
      throw new AppError('conflict', owner === userId ? 'This address is already linked to your account.' : 'This address is linked to another LoginSign account.');
    }
    await this.takeSendSlot(userId, email);
    // The previous link for this address stops working.
    await this.mailLink(userId, email, false);
    return email;
  }

  /** The account and address a live link would confirm (for its confirmation page); null when the link is unusable. */
  async peek(token: unknown): Promise<{ userId: number; email: string } | null> {
    if (typeof token !== 'string' || token.length > 100) return null;
    const row = await this.verifications.peek(sha256(token));
    return row ? { userId: Number(row.user_id), email: row.email } : null;
  }

  /**
   * Follows a link as the signed-in `sessionUserId`: single use (an atomic
   * update), unexpired, and only for the account it was sent for (a link of
   * another account is refused with 403 and stays unspent), then the address
   * is linked and confirmed.
   */
  async verify(token: unknown, sessionUserId: number): Promise<{ userId: number; email: string }> {
    if (typeof token !== 'string' || token.length > 100) throw invalidLink();
    let added = false;
    const result = await this.db.transaction(async (m) => {
      const row = await this.verifications.lockLive(m, sha256(token));
      if (!row) throw invalidLink();
      if (Number(row.user_id) !== sessionUserId) throw otherAccount();
      if (!(await this.verifications.markUsed(m, row.id))) throw invalidLink();
      const userId = Number(row.user_id);
      const email: string = row.email;
      const existing = await this.emails.lockByEmail(m, email);
      if (existing && Number(existing.user_id) !== userId) {
        throw new AppError('conflict', 'This address was linked to another LoginSign account in the meantime.');
      }
      if (existing) {
        // An app may share this address already: userinfo's email_verified turns true.
        this.signals.userChanged(m, userId);
        await this.emails.confirm(m, existing.id);
      } else {
        added = true;
        await this.emails.insertConfirmed(m, userId, email).catch((error: unknown) => {
          // A sign-up with this address committed between our read and the insert.
          if (isDuplicateKey(error)) {
            throw new AppError('conflict', 'This address was linked to another LoginSign account in the meantime.');
          }
          throw error;
        });
      }
      // Any other pending link of the same address of this user is moot now.
      await this.expirePending(m, userId, email);
      return { userId, email };
    });
    // A new address can receive what apps send and sign in: its owner hears about it at the primary address.
    if (added) await this.notices.notify(result.userId, 'email_added');
    return result;
  }

  /**
   * Removes a linked address (not the primary one, hence never the last) or
   * cancels a pending one, in the caller's transaction. Returns whether a
   * linked address was removed (its apps must stop seeing it).
   */
  async remove(m: EntityManager, userId: number, rawEmail: string): Promise<boolean> {
    const email = normalizeEmail(String(rawEmail ?? ''));
    const rows = await this.emails.lockAllOfUser(m, userId);
    const row = rows.find((r) => r.email === email);
    if (!row) {
      const cancelled = await this.expirePending(m, userId, email);
      if (cancelled === 0) throw new AppError('not_found', 'This address is not linked to your account.');
      return false;
    }
    if (row.is_primary) throw new AppError('invalid_request', 'This is your primary address. Make another linked address primary first.');
    if (rows.length <= 1) throw new AppError('invalid_request', 'Your account needs at least one email address.');
    this.signals.userChanged(m, userId);
    await this.emails.delete(m, row.id);
    return true;
  }

  /** The address when it is the user's and confirmed (normalised already), else null; in the caller's transaction. Only these may be shared with apps. */
  async findConfirmed(m: EntityManager, userId: number, email: string): Promise<string | null> {
    return this.emails.findConfirmed(m, userId, email);
  }

  /** Ends the live links of one pending address; returns how many there were. */
  private expirePending(m: EntityManager, userId: number, email: string): Promise<number> {
    return this.verifications.expirePending(m, userId, email);
  }

  /** Makes a linked address the primary one (where relayed mail is forwarded). */
  async setPrimary(userId: number, rawEmail: string): Promise<void> {
    const email = normalizeEmail(String(rawEmail ?? ''));
    await this.db.transaction(async (m) => {
      const rows = await this.emails.lockAllOfUser(m, userId);
      const row = rows.find((r) => r.email === email && (r.linked || r.is_primary));
      if (!row) throw new AppError('invalid_request', 'Only a linked (verified) address can be primary.');
      await this.emails.setPrimary(m, userId, row.id);
    });
  }
}
