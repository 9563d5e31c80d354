import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isEmail } from 'class-validator';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { AppError, LoginThrottleService, normalizeEmail, randomToken } from '@app/common';
import { GlobalIdService } from '../global-id';
import { UserEntity } from './entities/user.entity';
import { UserEmailEntity } from './entities/user-email.entity';
import { LIMITS } from './limits';
import { hashPassword, verifyPassword } from './password';

/** Throttle scope of end-user logins (developers have their own). */
const THROTTLE_SCOPE = 'user';

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
        // The sign-up address counts as verified and is the primary one.
        // TODO: confirm it by an emailed link once mail delivery exists.
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
