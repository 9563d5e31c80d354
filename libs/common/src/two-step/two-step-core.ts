import { AppError } from '../errors';
import { decrypt, encrypt } from '../crypto';
import { hashRecoveryCode, matchTotpStep, newRecoveryCodes, newTotpSecret, normalizeRecoveryCode, qrSvg, totpUri } from './totp';

/** What set-up shows: the secret as text and as a QR code of its otpauth URI. */
export interface TotpSetup {
  secret: string;
  uri: string;
  qrSvg: string;
}

/** Which second factor a code matched. */
export type SecondFactor = 'otp' | 'recovery';

/** Longest input treated as a code at all (anything longer is simply wrong). */
const CODE_MAX = 64;

/**
 * The storage of one account kind's two-step data (each kind's repository,
 * in the lib that owns its tables). Every write is atomic on its own.
 */
export interface TwoStepStore {
  findTotp(subjectId: number): Promise<{ secret_enc: string; confirmed_at: Date | null } | null>;
  /** A pending secret replaces an older pending one; a confirmed one is never overwritten. */
  savePending(subjectId: number, secretEnc: string): Promise<void>;
  /** Confirms exactly this pending secret with its first step and stores the recovery code hashes; false when it changed meanwhile. */
  confirm(subjectId: number, secretEnc: string, step: number, recoveryHashes: string[]): Promise<boolean>;
  /** Records a step as used; false when it (or a later one) was used already. */
  useStep(subjectId: number, step: number): Promise<boolean>;
  /** Uses up an unused recovery code; false when unknown or used. */
  useRecoveryCode(subjectId: number, hash: string): Promise<boolean>;
  countUnusedRecoveryCodes(subjectId: number): Promise<number>;
  deleteAll(subjectId: number): Promise<void>;
}

/**
 * The rules of two-step sign-in, the same for end users and developers:
 * TOTP (RFC 6238) with the secret AES-256-GCM encrypted at rest, a code's
 * step remembered so it is never accepted twice, and 10 single-use
 * recovery codes stored as SHA-256.
 */
export class TwoStepCore {
  constructor(
    private readonly store: TwoStepStore,
    private readonly key: Buffer,
  ) {}

  async isEnabled(subjectId: number): Promise<boolean> {
    return !!(await this.store.findTotp(subjectId))?.confirmed_at;
  }

  unusedRecoveryCodes(subjectId: number): Promise<number> {
    return this.store.countUnusedRecoveryCodes(subjectId);
  }

  /** A new pending secret (409 `conflict` when two-step sign-in is on); it does nothing until a code confirms it. */
  async beginSetup(subjectId: number, accountName: string): Promise<TotpSetup> {
    if (await this.isEnabled(subjectId)) throw new AppError('conflict', 'Two-step sign-in is already on.');
    const secret = newTotpSecret();
    await this.store.savePending(subjectId, encrypt(this.key, secret));
    return this.describe(accountName, secret);
  }

  /** The pending set-up again (after a wrong code), or null when there is none. */
  async pendingSetup(subjectId: number, accountName: string): Promise<TotpSetup | null> {
    const row = await this.store.findTotp(subjectId);
    if (!row || row.confirmed_at) return null;
    return this.describe(accountName, decrypt(this.key, row.secret_enc));
  }

  /** Confirms the pending secret with a current code; returns the recovery codes (the only time they exist in clear). */
  async confirmSetup(subjectId: number, code: unknown): Promise<string[]> {
    const row = await this.store.findTotp(subjectId);
    if (!row || row.confirmed_at) throw new AppError('invalid_request', 'Start the set-up again: there is no pending authenticator app.');
    const step = typeof code === 'string' && code.length <= CODE_MAX ? matchTotpStep(decrypt(this.key, row.secret_enc), code.replace(/\s/g, '')) : null;
    if (step === null) throw new AppError('invalid_request', 'The code is not correct. Enter the 6-digit code your app shows now.');
    const codes = newRecoveryCodes();
    const hashes = codes.map((c) => hashRecoveryCode(normalizeRecoveryCode(c)!));
    if (!(await this.store.confirm(subjectId, row.secret_enc, step, hashes))) throw new AppError('conflict', 'Two-step sign-in was changed meanwhile. Reload the page.');
    return codes;
  }

  /** A second-step code: a TOTP code not used before, or an unused recovery code (then used up). Null when wrong. */
  async verifyCode(subjectId: number, code: unknown): Promise<SecondFactor | null> {
    if (typeof code !== 'string' || code.length > CODE_MAX) return null;
    const compact = code.replace(/\s/g, '');
    const row = await this.store.findTotp(subjectId);
    if (!row?.confirmed_at) return null;
    if (/^\d{6}$/.test(compact)) {
      const step = matchTotpStep(decrypt(this.key, row.secret_enc), compact);
      return step !== null && (await this.store.useStep(subjectId, step)) ? 'otp' : null;
    }
    const recovery = normalizeRecoveryCode(compact);
    if (recovery === null) return null;
    return (await this.store.useRecoveryCode(subjectId, hashRecoveryCode(recovery))) ? 'recovery' : null;
  }

  /** Turns two-step sign-in off after a valid code (the caller has confirmed the password). 400 when the code is wrong. */
  async disable(subjectId: number, code: unknown): Promise<void> {
    if (!(await this.isEnabled(subjectId))) throw new AppError('invalid_request', 'Two-step sign-in is not on.');
    if (!(await this.verifyCode(subjectId, code))) throw new AppError('invalid_request', 'The code is not correct.');
    await this.store.deleteAll(subjectId);
  }

  private async describe(accountName: string, secret: string): Promise<TotpSetup> {
    const uri = totpUri(accountName, secret);
    return { secret, uri, qrSvg: await qrSvg(uri) };
  }
}
