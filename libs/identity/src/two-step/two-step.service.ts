import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SecondFactor, TotpSetup, TwoStepCore } from '@app/common';
import { MailerService } from '../mail/mailer.service';
import { UserEmailsRepository } from '../accounts/user-emails.repository';
import { TwoStepRepository } from './two-step.repository';

export type { SecondFactor, TotpSetup } from '@app/common';

/** The fixed texts of the notice mails of two-step changes. */
export const TWO_STEP_NOTICES = {
  'two-step-on': {
    subject: 'Two-step sign-in was turned on',
    text: 'Two-step sign-in with an authenticator app was turned on for your LoginSign account. If this was not you, reset your password and contact us.',
  },
  'two-step-off': {
    subject: 'Two-step sign-in was turned off',
    text: 'Two-step sign-in was turned off for your LoginSign account. If this was not you, reset your password and turn it on again.',
  },
  'passkey-added': {
    subject: 'A passkey was added',
    text: 'A passkey was added to your LoginSign account. If this was not you, remove it under Security and change your password.',
  },
  'passkey-removed': {
    subject: 'A passkey was removed',
    text: 'A passkey was removed from your LoginSign account. If this was not you, change your password.',
  },
} as const;

export type TwoStepNotice = keyof typeof TWO_STEP_NOTICES;

/**
 * Two-step sign-in of end users with an authenticator app (RFC 6238 TOTP)
 * and single-use recovery codes (the rules: TwoStepCore), plus the notice
 * mails of its changes.
 */
@Injectable()
export class TwoStepService {
  private readonly logger = new Logger('two-step');
  private readonly core: TwoStepCore;

  constructor(
    repo: TwoStepRepository,
    private readonly emails: UserEmailsRepository,
    private readonly mailer: MailerService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.core = new TwoStepCore(repo, config.secrets.dataEncryptionKey);
  }

  isEnabled(userId: number): Promise<boolean> {
    return this.core.isEnabled(userId);
  }

  unusedRecoveryCodes(userId: number): Promise<number> {
    return this.core.unusedRecoveryCodes(userId);
  }

  /** Starts (or restarts) set-up: a new pending secret. 409 `conflict` when two-step sign-in is already on. */
  async beginSetup(userId: number): Promise<TotpSetup> {
    return this.core.beginSetup(userId, await this.accountName(userId));
  }

  /** The pending set-up again (e.g. after a wrong code), or null when there is none. */
  async pendingSetup(userId: number): Promise<TotpSetup | null> {
    return this.core.pendingSetup(userId, await this.accountName(userId));
  }

  /** Confirms the pending secret with a current code: on, and the 10 recovery codes (shown once). */
  async confirmSetup(userId: number, code: unknown): Promise<string[]> {
    const codes = await this.core.confirmSetup(userId, code);
    await this.notify(userId, 'two-step-on');
    return codes;
  }

  /** A current TOTP code not used before, or an unused recovery code (then used up). Null when wrong. */
  verifyCode(userId: number, code: unknown): Promise<SecondFactor | null> {
    return this.core.verifyCode(userId, code);
  }

  /** Turns two-step sign-in off after a valid code (the caller has confirmed the password). 400 when the code is wrong. */
  async disable(userId: number, code: unknown): Promise<void> {
    await this.core.disable(userId, code);
    await this.notify(userId, 'two-step-off');
  }

  /** Mails a fixed notice to the account's primary address (confirmed or not). A failed send is logged, never fatal. */
  async notify(userId: number, kind: TwoStepNotice): Promise<void> {
    const to = await this.emails.primary(userId);
    if (!to) return;
    try {
      await this.mailer.send({ to, ...TWO_STEP_NOTICES[kind] });
    } catch (error) {
      this.logger.warn(`notice ${kind} not sent: ${(error as Error).message}`);
    }
  }

  private async accountName(userId: number): Promise<string> {
    return (await this.emails.primary(userId)) ?? `user-${userId}`;
  }
}
