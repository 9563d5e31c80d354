import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isEmail } from 'class-validator';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AppError, LoginThrottleService, normalizeEmail, randomToken } from '@app/common';
import { GlobalIdService } from '../global-id';
import { UserEntity } from './entities/user.entity';
import { UserEmailEntity } from './entities/user-email.entity';
import { LIMITS } from './limits';
import { hashPassword, verifyPassword } from './password';

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
  verified: boolean;
  isPrimary: boolean;
}

function invalid(description: string) {
  return new AppError('invalid_request', description);
}

/** Length in characters (code points), as people count them. */
function length(value: string): number {
  return [...value].length;
}

function isDuplicateEmail(error: unknown): boolean {
  const driver = error instanceof QueryFailedError ? (error.driverError as { code?: string; sqlMessage?: string }) : undefined;
  return driver?.code === 'ER_DUP_ENTRY' && String(driver.sqlMessage).includes('uq_user_emails_email');
}

/**
 * End-user accounts: sign-up, password login and the reads the OAuth code
 * needs. Validation lives here so the JSON API and the HTML forms share it.
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private dummyHash?: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(UserEmailEntity) private readonly emails: Repository<UserEmailEntity>,
    private readonly globalIds: GlobalIdService,
    private readonly throttle: LoginThrottleService,
  ) {}

  /** Computed at boot so even the first unknown-email login costs the usual argon2 time. */
  async onModuleInit() {
    await this.getDummyHash();
  }

  /** Checks and normalises sign-up fields; throws 400 `invalid_request` naming the field. */
  validateSignUp(input: Partial<Record<keyof SignUpInput, unknown>>): SignUpInput {
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const name = text(input.name).trim();
    const email = normalizeEmail(text(input.email));
    const password = text(input.password);
    const region = text(input.region).trim();
    if (length(name) < 1 || length(name) > LIMITS.nameMax) throw invalid(`Invalid field: name must be 1 to ${LIMITS.nameMax} characters.`);
    if (email.length > LIMITS.emailMax || !isEmail(email)) throw invalid('Invalid field: email must be a valid email address.');
    if (length(password) < LIMITS.passwordMin || length(password) > LIMITS.passwordMax) {
      throw invalid(`Invalid field: password must be ${LIMITS.passwordMin} to ${LIMITS.passwordMax} characters.`);
    }
    if (length(region) < 1 || length(region) > LIMITS.regionMax) throw invalid(`Invalid field: region must be a country name of 1 to ${LIMITS.regionMax} characters.`);
    return { name, email, password, region };
  }

  /** Creates the account and its first linked address. 409 `conflict` when the email is taken. */
  async signUp(input: SignUpInput): Promise<AccountSummary> {
    const { name, email, password, region } = this.validateSignUp(input);
    // Checked first so a taken address does not burn a Global ID; the unique index catches races.
    if (await this.emails.exists({ where: { email } })) throw this.emailTaken();
    const passwordHash = await hashPassword(password);
    const globalId = await this.globalIds.allocate();
    try {
      const id = await this.dataSource.transaction(async (em) => {
        const user = await em.save(em.create(UserEntity, { globalId, name, region, image: null, passwordHash }));
        // The contract links the sign-up address from the start (addresses added
        // later only once their emailed link is followed). `verified` stands for
        // "linked"; `confirmed_at` stays empty until a link confirms an address,
        // and only that makes OpenID Connect report email_verified.
        await em.save(em.create(UserEmailEntity, { userId: Number(user.id), email, verified: true, isPrimary: true }));
        return Number(user.id);
      });
      return { id, globalId, name, email };
    } catch (error) {
      if (isDuplicateEmail(error)) throw this.emailTaken();
      throw error;
    }
  }

  /**
   * Password login by any linked address. Unknown email and wrong password
   * give the same 401 after the same argon2 work; failures count towards the
   * per-account and per-IP windows (429 `rate_limited` once full).
   */
  async verifyLogin(email: string, password: string, ip: string): Promise<AccountSummary> {
    const normalized = normalizeEmail(String(email));
    await this.throttle.check(THROTTLE_SCOPE, normalized, ip);
    const user = normalized.length <= LIMITS.emailMax ? await this.findByLoginEmail(normalized) : null;
    const hash = user?.passwordHash ?? (await this.getDummyHash());
    const ok = await verifyPassword(hash, String(password));
    if (!user || !ok) {
      await this.throttle.recordFailure(THROTTLE_SCOPE, normalized, ip);
      throw new AppError('invalid_credentials', 'The email or password is incorrect.');
    }
    await this.throttle.recordSuccess(THROTTLE_SCOPE, normalized, ip);
    return { id: user.id, globalId: user.globalId, name: user.name, email: (await this.primaryEmail(user.id)) ?? normalized };
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
    const [row] = await m.query<{ name: string }[]>(`SELECT name FROM users WHERE id = ? FOR UPDATE`, [userId]);
    if (!row) throw new AppError('not_found', 'The account was not found.');
    await m.query(`UPDATE users SET name = ?, image = ?, region = ? WHERE id = ?`, [profile.name, profile.image, profile.region, userId]);
    return { nameChanged: row.name !== profile.name, profile };
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
    const user = await this.users.findOne({ where: { id: userId } });
    const ok = !!user && typeof password === 'string' && password.length <= LIMITS.passwordMax * 4 && (await verifyPassword(user.passwordHash, password));
    if (!ok) {
      await this.throttle.recordFailure(CONFIRM_SCOPE, key, ip);
      throw invalid('Your current password is not correct.');
    }
    await this.throttle.recordSuccess(CONFIRM_SCOPE, key, ip);
  }

  /** Replaces the password after confirming the current one. Signing out other sessions is the caller's part. */
  async changePassword(userId: number, current: unknown, next: unknown, ip: string): Promise<void> {
    const password = typeof next === 'string' ? next : '';
    if (length(password) < LIMITS.passwordMin || length(password) > LIMITS.passwordMax) {
      throw invalid(`Invalid field: new password must be ${LIMITS.passwordMin} to ${LIMITS.passwordMax} characters.`);
    }
    await this.confirmPassword(userId, current, ip);
    await this.users.update({ id: userId }, { passwordHash: await hashPassword(password) });
  }

  async getUser(userId: number): Promise<UserProfile | null> {
    const user = await this.users.findOne({ where: { id: userId } });
    if (!user) return null;
    return { id: user.id, globalId: user.globalId, name: user.name, image: user.image, region: user.region };
  }

  /** The profile plus the primary address (for `/api/account/me` and the account page). */
  async getAccount(userId: number): Promise<(UserProfile & { email: string }) | null> {
    const user = await this.getUser(userId);
    if (!user) return null;
    return { ...user, email: (await this.primaryEmail(userId)) ?? '' };
  }

  /**
   * The user's linked addresses, primary first. Linked means the sign-up
   * (primary) address or an address whose emailed link was followed
   * (verified); pending addresses are not included.
   */
  async linkedEmails(userId: number): Promise<LinkedEmail[]> {
    const rows = await this.emails.find({ where: { userId }, order: { isPrimary: 'DESC', id: 'ASC' } });
    return rows.filter((r) => r.verified || r.isPrimary).map((r) => ({ email: r.email, verified: r.verified, isPrimary: r.isPrimary }));
  }

  private async primaryEmail(userId: number): Promise<string | null> {
    const row = await this.emails.findOne({ where: { userId, isPrimary: true } });
    return row?.email ?? null;
  }

  private async findByLoginEmail(email: string): Promise<UserEntity | null> {
    const row = await this.emails.findOne({ where: { email } });
    if (!row || !(row.verified || row.isPrimary)) return null;
    return this.users.findOne({ where: { id: row.userId } });
  }

  /** A hash of a random password, so an unknown email costs the same argon2 work. */
  private getDummyHash(): Promise<string> {
    this.dummyHash ??= hashPassword(randomToken());
    return this.dummyHash;
  }

  private emailTaken() {
    return new AppError('conflict', 'An account with this email address already exists.');
  }
}
