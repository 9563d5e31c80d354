import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { UserEmailsRepository } from '../accounts/user-emails.repository';
import { MailerService } from '../mail/mailer.service';

/** The security-relevant changes an account's owner is told about by mail. */
export type AccountNoticeKind =
  'password_changed' | 'password_reset' | 'email_added' | 'account_deleted' | 'two_step_enabled' | 'two_step_disabled' | 'passkey_added' | 'passkey_removed';

const NOTICES: Record<AccountNoticeKind, { subject: string; what: string }> = {
  password_changed: { subject: 'Your LoginSign password was changed', what: 'The password of your LoginSign account was changed.' },
  password_reset: {
    subject: 'Your LoginSign password was reset',
    what: 'The password of your LoginSign account was reset with a link mailed to you. Every session was signed out and every app has to ask you to sign in again.',
  },
  email_added: { subject: 'An address was added to your LoginSign account', what: 'An email address was added to your LoginSign account.' },
  account_deleted: { subject: 'Your LoginSign account was deleted', what: 'Your LoginSign account was deleted.' },
  two_step_enabled: { subject: 'Two-step sign-in is on', what: 'Two-step sign-in was turned on for your LoginSign account.' },
  two_step_disabled: { subject: 'Two-step sign-in is off', what: 'Two-step sign-in was turned off for your LoginSign account.' },
  passkey_added: { subject: 'A passkey was added to your LoginSign account', what: 'A passkey was added to your LoginSign account.' },
  passkey_removed: { subject: 'A passkey was removed from your LoginSign account', what: 'A passkey was removed from your LoginSign account.' },
};

/**
 * Mails the owner of an account about a security-relevant change, to the
 * primary address, confirmed or not. A notice that cannot be sent is logged,
 * never turned into a failure of the change it reports (that is done).
 */
@Injectable()
export class AccountNoticesService {
  private readonly logger = new Logger('account-notices');

  constructor(
    private readonly emails: UserEmailsRepository,
    private readonly mailer: MailerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `to` names the address when the account may be gone by the time the mail is sent (deletion). */
  async notify(userId: number, kind: AccountNoticeKind, options: { to?: string } = {}): Promise<void> {
    const to = options.to ?? (await this.emails.primary(userId));
    if (!to) return;
    await this.mailTo(to, kind, '/password/forgot');
  }

  /** The same notice to a known address; `forgotPath` is the kind of account's "forgot password" page. */
  async mailTo(to: string, kind: AccountNoticeKind, forgotPath: string): Promise<void> {
    const notice = NOTICES[kind];
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const text = `${notice.what}\nWhen: ${when}\n\nIf this was not you, reset your password now: ${this.config.publicUrl}${forgotPath}\n`;
    try {
      await this.mailer.send({ to, subject: notice.subject, text });
    } catch (error) {
      this.logger.error(`notice "${kind}" to ${to} not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
