import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  AccessChangeSignals,
  AppError,
  checkPasswordPolicy,
  CountsLogins,
  isDuplicateKey,
  LoginThrottleService,
  PasswordHasher,
  emailThrottleKey,
  parseEmail,
  RateLimitService,
} from '@app/common';
import { GlobalIdService } from '../global-id';
import { UserEmailsRepository } from './user-emails.repository';
import { UserRow, UsersRepository } from './users.repository';
import { LIMITS } from './limits';
import { LinkedEmailsService } from './linked-emails.service';
import { AccountNoticesService } from '../notices/account-notices.service';
import { TwoStepService } from '../two-step/two-step.service';

/** Throttle scope of end-user logins (developers have their own). */
const THROTTLE_SCOPE = 'user';
/** Throttle scope of password confirmations by a signed-in user (password change, account deletion). */
const CONFIRM_SCOPE = 'user-confirm';

export interface SignUpInput {
  name: string;
  email: string;
  password: string;
  region: string;
}

/** What sign-up and login return. `email` is the primary address. */
export interface AccountSummary {
  id: number;
  globalId: string;
  name: string;
  email: string;
}

/**
 * A password login's outcome. `amr` (RFC 8176) names the methods used: `pwd`,
 * plus `otp` and `mfa` after a second-step code. `secondStepPending` is set
 * when the page flow still has to ask for the code (no session yet).
 */
export interface LoginResult extends AccountSummary {
  amr: string[];
  secondStepPending?: boolean;
}

/** How a login handles two-step sign-in: check `otp` now (JSON), or leave the code for a second page. */
export type SecondStepMode = { otp?: unknown } | 'defer';

export interface UserProfile {
  id: number;
  globalId: string;
  name: string;
  image: string | null;
  region: string;
}

/** What the account center's profile form changes. */
export interface ProfileInput {
  name: string;
  /** An https URL, or "" / null for none. */
  image: string | null;
  region: string;
}

export interface LinkedEmail {
  email: string;
  linked: boolean;
  /** Confirmed by its emailed link (or a completed reset): the only addresses an app may receive. */
  confirmed: boolean;
  isPrimary: boolean;
}

function invalid(description: string) {
  return new AppError('invalid_request', description);
}

/** Length in characters (code points), as people count them. */
function length(value: string): number {
  return [...value].length;
}

const isDuplicateEmail = (error: unknown) => isDuplicateKey(error, 'uq_user_emails_email');

/**
 * End-user accounts: sign-up, password login and the reads the OAuth code
 * needs. Validation lives here so the JSON API and the HTML forms share it.
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private readonly logger = new Logger('accounts');

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly emails: UserEmailsRepository,
    private readonly globalIds: GlobalIdService,
    private readonly throttle: LoginThrottleService,
    private readonly limits: RateLimitService,
    private readonly passwords: PasswordHasher,
    private readonly addresses: LinkedEmailsService,
    private readonly notices: AccountNoticesService,
    private readonly twoStep: TwoStepService,
    private readonly signals: AccessChangeSignals,
  ) {}

  /** Computed at boot so even the first unknown-email login costs the usual argon2 time. */
  async onModuleInit() {
    await this.passwords.dummyHash();
  }

  /** Checks and normalises sign-up fields; throws 400 `invalid_request` naming the field. */
  validateSignUp(input: Partial<Record<keyof SignUpInput, unknown>>): SignUpInput {
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const name = text(input.name).trim();
    const email = parseEmail(input.email);
    const password = text(input.password);
    const region = text(input.region).trim();
    if (length(name) < 1 || length(name) > LIMITS.nameMax) throw invalid(`Invalid field: name must be 1 to ${LIMITS.nameMax} characters.`);
    if (email === null || email.length > LIMITS.emailMax) throw invalid('Invalid field: email must be a valid email address.');
    if (length(region) < 1 || length(region) > LIMITS.regionMax) throw invalid(`Invalid field: region must be a country name of 1 to ${LIMITS.regionMax} characters.`);
    checkPasswordPolicy(password);
    return { name, email, password, region };
  }

  /**
   * Creates the account and its first linked address. 409 `conflict` when the
   * email is taken. With the client IP, counts towards that IP's hourly
   * sign-up limit (429 beyond it): argon2 and Global IDs are not free.
   */
  async signUp(input: SignUpInput, ip?: string): Promise<AccountSummary> {
    const { name, email, password, region } = this.validateSignUp(input);
    if (ip !== undefined) await this.limits.userSignup(ip);
    // Checked first so a taken address does not burn a Global ID; the unique index catches races.
    if (await this.emails.exists(email)) throw this.emailTaken();
    const passwordHash = await this.passwords.hash(password);
    const globalId = await this.globalIds.allocate();
    try {
      const id = await this.dataSource.transaction(async (em) => {
        const userId = await this.users.insert(em, { globalId, name, region, image: null, passwordHash });
        // The sign-up address is linked from the start (addresses added
        // later only once their emailed link is followed); `confirmed_at`
        // stays empty until a link confirms an address, and only that makes
        // OpenID Connect report email_verified.
        await this.emails.insertSignUp(em, userId, email);
        return userId;
      });
      await this.mailConfirmation(id);
      return { id, globalId, name, email };
    } catch (error) {
      if (isDuplicateEmail(error)) throw this.emailTaken();
      throw error;
    }
  }

  /** The sign-up address gets its confirmation link; a mail that cannot go out leaves the account usable ("send again" later). */
  private async mailConfirmation(userId: number): Promise<void> {
    try {
      await this.addresses.sendPrimaryConfirmation(userId, true);
    } catch (error) {
      this.logger.warn(`confirmation link for user ${userId} not sent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Password login by any linked address. Unknown email and wrong password
   * give the same 401 after the same argon2 work; failures count towards the
   * per-account and per-IP windows (429 `rate_limited` once full).
   */
  @CountsLogins('password')
  async verifyLogin(email: string, password: string, ip: string, secondStep: SecondStepMode = {}): Promise<LoginResult> {
    // Only an acceptable address (the sign-up rule) can name an account; the
    // throttle counts per account, or per visible spelling when none matches.
    const normalized = parseEmail(email);
    const user = normalized !== null && normalized.length <= LIMITS.emailMax ? await this.findByLoginEmail(normalized) : null;
    const throttleKey = user ? `uid:${user.id}` : emailThrottleKey(String(email));
    await this.throttle.check(THROTTLE_SCOPE, throttleKey, ip);
    const ok = await this.passwords.verify(user?.password_hash, String(password));
    if (!user || !ok) {
      await this.throttle.recordFailure(THROTTLE_SCOPE, throttleKey, ip);
      throw new AppError('invalid_credentials', 'The email or password is incorrect.');
    }
    const amr = ['pwd'];
    // With two-step sign-in on, the password alone clears nothing: only the
    // code does, so guessing codes stays throttled like guessing passwords.
    if (await this.twoStep.isEnabled(user.id)) {
      const summary = { id: user.id, globalId: user.global_id, name: user.name, email: (await this.primaryEmail(user.id)) ?? normalized! };
      if (secondStep === 'defer') return { ...summary, amr, secondStepPending: true };
      const otp = secondStep.otp;
      if (otp === undefined || otp === null || otp === '')
        throw new AppError('mfa_required', 'Two-step sign-in is on: send the code from the authenticator app (or a recovery code) as otp.');
      return { ...summary, amr: await this.checkSecondStep(user.id, otp, ip) };
    }
    await this.throttle.recordSuccess(THROTTLE_SCOPE, throttleKey, ip);
    return { id: user.id, globalId: user.global_id, name: user.name, email: (await this.primaryEmail(user.id)) ?? normalized!, amr };
  }

  /**
   * The second step of a login whose password was right: a current TOTP
   * code or an unused recovery code. Throttled and counted like a password
   * (a wrong code is 401 `invalid_credentials`); returns the login's amr.
   */
  async checkSecondStep(userId: number, code: unknown, ip: string): Promise<string[]> {
    const throttleKey = `uid:${userId}`;
    await this.throttle.check(THROTTLE_SCOPE, throttleKey, ip);
    const factor = await this.twoStep.verifyCode(userId, code);
    if (!factor) {
      await this.throttle.recordFailure(THROTTLE_SCOPE, throttleKey, ip);
      throw new AppError('invalid_credentials', 'The code is not correct.');
    }
    await this.throttle.recordSuccess(THROTTLE_SCOPE, throttleKey, ip);
    return ['pwd', 'otp', 'mfa'];
  }

  /** Checks and normalises profile fields; throws 400 `invalid_request` naming the field. */
  validateProfile(input: Partial<Record<keyof ProfileInput, unknown>>): ProfileInput {
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const name = text(input.name).trim();
    const region = text(input.region).trim();
    const rawImage = text(input.image).trim();
    if (length(name) < 1 || length(name) > LIMITS.nameMax) throw invalid(`Invalid field: name must be 1 to ${LIMITS.nameMax} characters.`);
    if (length(region) < 1 || length(region) > LIMITS.regionMax) throw invalid(`Invalid field: region must be a country name of 1 to ${LIMITS.regionMax} characters.`);
    let image: string | null = null;
    if (rawImage !== '') {
      let parsed: URL | null = null;
      try {
        parsed = new URL(rawImage);
      } catch {
        parsed = null;
      }
      if (!parsed || parsed.protocol !== 'https:' || parsed.username || parsed.password || rawImage.length > 2048 || /[\s\x00-\x1f]/.test(rawImage)) {
        throw invalid('Invalid field: image must be an https:// URL (or empty for none).');
      }
      image = parsed.href;
    }
    return { name, image, region };
  }

  /**
   * Saves the profile in the caller's transaction; returns the user's Global
   * ID and whether the name changed (denormalised copies must follow).
   */
  async updateProfile(m: EntityManager, userId: number, input: Partial<Record<keyof ProfileInput, unknown>>): Promise<{ nameChanged: boolean; profile: ProfileInput }> {
    const profile = this.validateProfile(input);
    const name = await this.users.lockName(m, userId);
    if (name === null) throw new AppError('not_found', 'The account was not found.');
    await this.users.updateProfile(m, userId, profile);
    // Name and image are what /api/user and userinfo answer.
    this.signals.userChanged(m, userId);
    return { nameChanged: name !== profile.name, profile };
  }

  /** The primary address (where notices go), e.g. read before the account is deleted. */
  async noticeAddress(userId: number): Promise<string | null> {
    return this.primaryEmail(userId);
  }

  /** Tells the owner about a change, at an address read before the account may have gone. */
  async notifyDeleted(userId: number, to: string): Promise<void> {
    await this.notices.notify(userId, 'account_deleted', { to });
  }

  /** Deletes the user in the caller's transaction (linked addresses, pending links and tokens go by FK cascade). */
  async deleteUser(m: EntityManager, userId: number): Promise<void> {
    this.signals.userChanged(m, userId);
    await this.users.delete(m, userId);
  }

  /**
   * A signed-in user re-enters their password (password change, account
   * deletion): argon2 check, throttled per account and IP like logins.
   * 400 `invalid_request` when wrong (the session is valid; only the
   * confirmation failed).
   */
  async confirmPassword(userId: number, password: unknown, ip: string): Promise<void> {
    const key = `uid:${userId}`;
    await this.throttle.check(CONFIRM_SCOPE, key, ip);
    const user = await this.users.find(userId);
    const ok = !!user && typeof password === 'string' && password.length <= LIMITS.passwordMax * 4 && (await this.passwords.verify(user.password_hash, password));
    if (!ok) {
      await this.throttle.recordFailure(CONFIRM_SCOPE, key, ip);
      throw invalid('Your current password is not correct.');
    }
    await this.throttle.recordSuccess(CONFIRM_SCOPE, key, ip);
  }

  /** Replaces the password after confirming the current one. Signing out other sessions is the caller's part. */
  async changePassword(userId: number, current: unknown, next: unknown, ip: string): Promise<void> {
    const password = checkPasswordPolicy(typeof next === 'string' ? next : '', 'new password');
    await this.confirmPassword(userId, current, ip);
    await this.users.setPasswordHash(userId, await this.passwords.hash(password));
    await this.notices.notify(userId, 'password_changed');
  }

  async getUser(userId: number): Promise<UserProfile | null> {
    const user = await this.users.find(userId);
    if (!user) return null;
    return { id: user.id, globalId: user.global_id, name: user.name, image: user.image, region: user.region };
  }

  /** The profile plus the primary address (for `/api/account/me` and the account page). */
  async getAccount(userId: number): Promise<(UserProfile & { email: string }) | null> {
    const user = await this.getUser(userId);
    if (!user) return null;
    return { ...user, email: (await this.primaryEmail(userId)) ?? '' };
  }

  /**
   * The user's linked addresses, primary first. Linked means the sign-up
   * (primary) address or an address whose emailed link was followed;
   * pending addresses are not included.
   */
  async linkedEmails(userId: number): Promise<LinkedEmail[]> {
    const rows = await this.emails.allOfUser(userId);
    return rows.filter((r) => r.linked || r.is_primary).map((r) => ({ email: r.email, linked: !!r.linked, confirmed: r.confirmed_at != null, isPrimary: !!r.is_primary }));
  }

  private async primaryEmail(userId: number): Promise<string | null> {
    return this.emails.primary(userId);
  }

  private async findByLoginEmail(email: string): Promise<UserRow | null> {
    const row = await this.emails.findByEmail(email);
    if (!row || !(row.linked || row.is_primary)) return null;
    return this.users.find(Number(row.user_id));
  }

  private emailTaken() {
    return new AppError('conflict', 'An account with this email address already exists.');
  }
}
