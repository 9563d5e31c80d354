import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, decrypt, encrypt } from '@app/common';
import { MailerService } from '../mail/mailer.service';
import { UserEmailsRepository } from '../accounts/user-emails.repository';
import { TwoStepRepository } from './two-step.repository';
import { hashRecoveryCode, matchTotpStep, newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, qrSvg, totpUri } from './totp';

/** What set-up shows: the secret as text and as a QR code of its otpauth URI. */
export interface TotpSetup {
  secret: string;
  uri: string;
  qrSvg: string;
}

/** Which second factor a code matched (for `amr`). */
export type SecondFactor = 'otp' | 'recovery';

/** Longest input treated as a code at all (anything longer is simply wrong). */
const CODE_MAX = 64;

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
 * Two-step sign-in with an authenticator app (RFC 6238 TOTP) and single-use
 * recovery codes. The secret is stored AES-256-GCM encrypted; a code's
 * 30-second step is remembered so the same code is never accepted twice.
 */
@Injectable()
export class TwoStepService {
  private readonly logger = new Logger('two-step');

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: TwoStepRepository,
    private readonly emails: UserEmailsRepository,
    private readonly mailer: MailerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async isEnabled(userId: number): Promise<boolean> {
    const row = await this.repo.findTotp(userId);
    return !!row?.confirmed_at;
  }

  async unusedRecoveryCodes(userId: number): Promise<number> {
    return this.repo.countUnusedRecoveryCodes(userId);
  }

  /**
   * Starts (or restarts) set-up: a new pending secret. 409 `conflict` when
   * two-step sign-in is already on. The pending secret does nothing until a
   * code confirms it.
   */
  async beginSetup(userId: number): Promise<TotpSetup> {
    if (await this.isEnabled(userId)) throw new AppError('conflict', 'Two-step sign-in is already on.');
    const secret = newTotpSecret();
    await this.repo.savePending(userId, encrypt(this.config.secrets.dataEncryptionKey, secret));
    return this.describe(userId, secret);
  }

  /** The pending set-up again (e.g. after a wrong code), or null when there is none. */
  async pendingSetup(userId: number): Promise<TotpSetup | null> {
    const row = await this.repo.findTotp(userId);
    if (!row || row.confirmed_at) return null;
    return this.describe(userId, this.secretOf(row.secret_enc));
  }

  /**
   * Confirms the pending secret with a current code: two-step sign-in is on,
   * and the 10 recovery codes are returned (the only time they exist in clear).
   */
  async confirmSetup(userId: number, code: unknown): Promise<string[]> {
    const row = await this.repo.findTotp(userId);
    if (!row || row.confirmed_at) throw new AppError('invalid_request', 'Start the set-up again: there is no pending authenticator app.');
    const step = typeof code === 'string' && code.length <= CODE_MAX ? matchTotpStep(this.secretOf(row.secret_enc), code.replace(/\s/g, '')) : null;
    if (step === null) throw new AppError('invalid_request', 'The code is not correct. Enter the 6-digit code your app shows now.');
    const codes = newRecoveryCodes();
    const confirmed = await this.dataSource.transaction(async (m) => {
      if (!(await this.repo.confirm(m, userId, row.secret_enc, step))) return false;
      await this.repo.replaceRecoveryCodes(
        m,
        userId,
        codes.map((c) => hashRecoveryCode(normalizeRecoveryCode(c)!)),
      );
      return true;
    });
    if (!confirmed) throw new AppError('conflict', 'Two-step sign-in was changed meanwhile. Reload the page.');
    await this.notify(userId, 'two-step-on');
    return codes;
  }

  /**
   * Checks a second-step code of a user with two-step sign-in on: a TOTP
   * code not used before, or an unused recovery code (then used up).
   * Null when wrong.
   */
  async verifyCode(userId: number, code: unknown): Promise<SecondFactor | null> {
    if (typeof code !== 'string' || code.length > CODE_MAX) return null;
    const compact = code.replace(/\s/g, '');
    const row = await this.repo.findTotp(userId);
    if (!row?.confirmed_at) return null;
    if (/^\d{6}$/.test(compact)) {
      const step = matchTotpStep(this.secretOf(row.secret_enc), compact);
      return step !== null && (await this.repo.useStep(userId, step)) ? 'otp' : null;
    }
    const recovery = normalizeRecoveryCode(compact);
    if (recovery === null) return null;
    return (await this.repo.useRecoveryCode(userId, hashRecoveryCode(recovery))) ? 'recovery' : null;
  }

  /** Turns two-step sign-in off after a valid code (the caller has confirmed the password). 400 when the code is wrong. */
  async disable(userId: number, code: unknown): Promise<void> {
    if (!(await this.isEnabled(userId))) throw new AppError('invalid_request', 'Two-step sign-in is not on.');
    if (!(await this.verifyCode(userId, code))) throw new AppError('invalid_request', 'The code is not correct.');
    await this.dataSource.transaction((m) => this.repo.deleteAll(m, userId));
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

  private secretOf(sealed: string): string {
    return decrypt(this.config.secrets.dataEncryptionKey, sealed);
  }

  private async describe(userId: number, secret: string): Promise<TotpSetup> {
    const account = (await this.emails.primary(userId)) ?? `user-${userId}`;
    const uri = totpUri(account, secret);
    return { secret, uri, qrSvg: await qrSvg(uri) };
  }
}
