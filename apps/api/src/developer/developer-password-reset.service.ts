import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, RateLimitService, ResetLinksService, SessionService } from '@app/common';
import { DevelopersService } from '@app/developer';
import { AccountNoticesService, checkNewPassword, checkResetEmail, MailerService } from '@app/identity';

const invalidLink = () => new AppError('invalid_request', 'This reset link is invalid, has expired, was replaced by a newer one or was already used. Ask for a new one.');

/**
 * Forgotten passwords of developer accounts: the same rules as end users'
 * (PasswordResetService), over the developer lib's accounts and the identity
 * lib's mailer (which the developer lib cannot import). Developers hold no
 * OAuth tokens; a completed reset ends every portal session and mails a notice.
 */
@Injectable()
export class DeveloperPasswordResetService {
  private readonly logger = new Logger('password-reset');

  constructor(
    private readonly developers: DevelopersService,
    private readonly links: ResetLinksService,
    private readonly sessions: SessionService,
    private readonly mailer: MailerService,
    private readonly notices: AccountNoticesService,
    private readonly limits: RateLimitService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async request(rawEmail: unknown, ip: string): Promise<void> {
    const email = checkResetEmail(rawEmail);
    await this.limits.resetRequest(ip);
    const developer = await this.developers.findByEmail(email);
    const slot = await this.links.takeAddressSlot('developer', email);
    // Unknown address or its 3 mails this hour spent: the same answer, nothing sent.
    if (!developer || !slot) return;
    const token = await this.links.issue('developer', { subjectId: developer.id, email });
    void this.mailLink(email, token);
  }

  async peek(token: unknown): Promise<string | null> {
    return (await this.links.peek('developer', token))?.email ?? null;
  }

  async complete(token: unknown, rawPassword: unknown): Promise<void> {
    const password = checkNewPassword(rawPassword);
    // Spending the link checks it (unknown, used, expired, voided: null); nothing costly runs before.
    const target = await this.links.consume('developer', token);
    if (!target || !(await this.developers.setPassword(target.subjectId, password))) throw invalidLink();
    await this.sessions.destroyAll('developer', target.subjectId);
    await this.notices.mailTo(target.email, 'password_reset', '/developer/password/forgot');
  }

  private async mailLink(email: string, token: string): Promise<void> {
    const link = `${this.config.publicUrl}/developer/password/reset?${new URLSearchParams({ token })}`;
    try {
      await this.mailer.send({
        to: email,
        subject: 'Reset your LoginSign developer password',
        text: `Someone (hopefully you) asked to reset the password of the LoginSign developer account that uses ${email}.\n\nTo choose a new password, open this link within 1 hour:\n\n${link}\n\nIf this was not you, ignore this email: your password stays as it is.\n`,
      });
    } catch (error) {
      this.logger.error(`reset link to ${email} not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
