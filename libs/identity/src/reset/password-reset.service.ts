import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, checkPasswordPolicy, parseEmail, PasswordHasher, RateLimitService, ResetLinksService, SessionService } from '@app/common';
import { LIMITS } from '../accounts/limits';
import { UserEmailsRepository } from '../accounts/user-emails.repository';
import { UsersRepository } from '../accounts/users.repository';
import { MailerService } from '../mail/mailer.service';
import { AccountNoticesService } from '../notices/account-notices.service';

/**
 * Ends every access and refresh token of a user, in the caller's
 * transaction. Implemented by libs/oauth (GrantsService registers itself when
 * OAuthModule starts): identity cannot import oauth.
 */
export interface AccountGrantRevoker {
  revokeUser(m: EntityManager, userId: number): Promise<void>;
}

const invalidLink = () => new AppError('invalid_request', 'This reset link is invalid, has expired, was replaced by a newer one or was already used. Ask for a new one.');

/** Checks a new password against the password policy (length, common passwords); 400 `invalid_request` saying why. */
export function checkNewPassword(password: unknown): string {
  return checkPasswordPolicy(password);
}

/** A requested address: a string of an acceptable address; 400 `invalid_request` otherwise. */
export function checkResetEmail(value: unknown): string {
  const email = typeof value === 'string' && value.length <= LIMITS.emailMax ? parseEmail(value) : null;
  if (email === null) throw new AppError('invalid_request', 'Invalid field: email must be a valid email address.');
  return email;
}

/**
 * Forgotten passwords of end users. A request answers the same for every
 * address (the mail goes out in the background, so known and unknown
 * addresses cost the same time); a link goes only to the sign-up address or
 * a confirmed address. Completing a reset sets the password, confirms the
 * address the link was sent to, revokes every token of the account's apps
 * (same transaction), ends every session and mails a notice.
 */
@Injectable()
export class PasswordResetService {
  private readonly logger = new Logger('password-reset');
  private revoker?: AccountGrantRevoker;

  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly emails: UserEmailsRepository,
    private readonly links: ResetLinksService,
    private readonly sessions: SessionService,
    private readonly mailer: MailerService,
    private readonly notices: AccountNoticesService,
    private readonly passwords: PasswordHasher,
    private readonly limits: RateLimitService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Called once by libs/oauth at start-up. */
  useGrantRevoker(revoker: AccountGrantRevoker): void {
    this.revoker = revoker;
  }

  /** Always resolves the same way for a valid address; 400 for a malformed one, 429 past the per-IP window. */
  async request(rawEmail: unknown, ip: string): Promise<void> {
    const email = checkResetEmail(rawEmail);
    await this.limits.resetRequest(ip);
    const row = await this.emails.findByEmail(email);
    // The sign-up address or a confirmed one (both are linked); pending addresses never get a link.
    const userId = row && (row.linked || row.is_primary) ? Number(row.user_id) : null;
    const slot = await this.links.takeAddressSlot('user', email);
    // Unknown address or its 3 mails this hour spent: the same answer, nothing sent.
    if (userId === null || !slot) return;
    const token = await this.links.issue('user', { subjectId: userId, email });
    void this.mailLink(email, token);
  }

  /** The address a live link was sent to (for its form); null when unusable. */
  async peek(token: unknown): Promise<string | null> {
    return (await this.links.peek('user', token))?.email ?? null;
  }

  /** Sets the new password; 400 `invalid_request` for a bad password or an unusable link (the link is not spent by a bad password). */
  async complete(token: unknown, rawPassword: unknown): Promise<void> {
    const password = checkNewPassword(rawPassword);
    if (typeof token !== 'string' || (await this.links.peek('user', token)) === null) throw invalidLink();
    const revoker = this.revoker;
    if (!revoker) throw new Error('No grant revoker registered: import OAuthModule where password resets complete.');
    const passwordHash = await this.passwords.hash(password);
    const target = await this.links.consume('user', token);
    if (!target) throw invalidLink();
    const userId = target.subjectId;
    const done = await this.db.transaction(async (m) => {
      if ((await this.users.lockName(m, userId)) === null) return false;
      await this.users.setPasswordHashIn(m, userId, passwordHash);
      const row = await this.emails.lockByEmail(m, target.email);
      if (row && Number(row.user_id) === userId) await this.emails.confirm(m, row.id);
      await revoker.revokeUser(m, userId);
      return true;
    });
    if (!done) throw invalidLink();
    await this.sessions.destroyAll('user', userId);
    await this.notices.notify(userId, 'password_reset');
  }

  private async mailLink(email: string, token: string): Promise<void> {
    const link = `${this.config.publicUrl}/password/reset?${new URLSearchParams({ token })}`;
    try {
      await this.mailer.send({
        to: email,
        subject: 'Reset your LoginSign password',
        text: `Someone (hopefully you) asked to reset the password of the LoginSign account that uses ${email}.\n\nTo choose a new password, open this link within 1 hour:\n\n${link}\n\nIf this was not you, ignore this email: your password stays as it is.\n`,
      });
    } catch (error) {
      this.logger.error(`reset link to ${email} not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
