import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppError, checkPasswordPolicy, isDuplicateKey, LoginThrottleService, PasswordHasher, emailThrottleKey, parseEmail, RateLimitService } from '@app/common';
import { DeveloperTwoStepService } from './developer-two-step.service';
import { DevelopersRepository, StoredDeveloper } from './developers.repository';
import { DEVELOPER_LIMITS } from './dto/developer.dto';

/** Login throttle scope, separate from end users' logins. */
const THROTTLE_SCOPE = 'developer';
/** Throttle scope of password confirmations by a signed-in developer. */
const CONFIRM_SCOPE = 'developer-confirm';

/** A developer login's outcome: `amr` (RFC 8176) and, on the portal, whether the code is still to come. */
export interface DeveloperLogin extends DeveloperRecord {
  amr: string[];
  secondStepPending?: boolean;
}

/** Check `otp` now (JSON), or leave the code for the portal's second page. */
export type DeveloperSecondStep = { otp?: unknown } | 'defer';

export interface DeveloperRecord {
  id: number;
  name: string;
  email: string;
  createdAt: Date;
}

export interface DeveloperSignup {
  name: string;
  email: string;
  password: string;
}

const toRecord = ({ id, name, email, createdAt }: StoredDeveloper): DeveloperRecord => ({ id, name, email, createdAt });

const invalidCredentials = () => new AppError('invalid_credentials', 'The email or password is incorrect.');

@Injectable()
export class DevelopersService implements OnModuleInit {
  constructor(
    private readonly developers: DevelopersRepository,
    private readonly throttle: LoginThrottleService,
    private readonly limits: RateLimitService,
    private readonly passwords: PasswordHasher,
    private readonly twoStep: DeveloperTwoStepService,
  ) {}

  /** Computed at boot so even the first unknown-email login costs the usual argon2 time. */
  async onModuleInit() {
    await this.passwords.dummyHash();
  }

  /** With the client IP, counts towards that IP's hourly developer sign-up limit (429 beyond it). */
  async signup(input: DeveloperSignup, ip?: string): Promise<DeveloperRecord> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > DEVELOPER_LIMITS.nameMax) {
      throw new AppError('invalid_request', `name must be 1 to ${DEVELOPER_LIMITS.nameMax} characters.`);
    }
    checkPasswordPolicy(input.password);
    const email = parseEmail(input.email);
    if (email === null) throw new AppError('invalid_request', 'Invalid field: email must be a valid email address.');
    if (ip !== undefined) await this.limits.developerSignup(ip);
    // Checked first to skip the argon2 work; the unique index settles races.
    if (await this.developers.existsByEmail(email)) throw this.emailTaken();
    const developer = { name, email, passwordHash: await this.passwords.hash(input.password), createdAt: new Date() };
    try {
      const id = await this.developers.insert(developer);
      return toRecord({ id, ...developer });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw this.emailTaken();
      throw error;
    }
  }

  /**
   * The same 401 for an unknown email and a wrong password, in about the
   * same time; failures count per account and per IP (429 when too many).
   */
  async login(emailInput: string, password: string, ip: string, secondStep: DeveloperSecondStep = {}): Promise<DeveloperLogin> {
    // Only an acceptable address (the sign-up rule) can name an account; the
    // throttle counts per account, or per visible spelling when none matches.
    const email = parseEmail(emailInput);
    const developer = email === null ? null : await this.developers.findByEmail(email);
    const throttleKey = developer ? `dev:${developer.id}` : emailThrottleKey(String(emailInput));
    await this.throttle.check(THROTTLE_SCOPE, throttleKey, ip);
    // Unknown email: the same argon2 work against a dummy hash, always false.
    const valid = await this.passwords.verify(developer?.passwordHash, password);
    if (!developer || !valid) {
      await this.throttle.recordFailure(THROTTLE_SCOPE, throttleKey, ip);
      throw invalidCredentials();
    }
    // With two-step sign-in on, only the code clears the throttle window (as for end users).
    if (await this.twoStep.isEnabled(developer.id)) {
      if (secondStep === 'defer') return { ...toRecord(developer), amr: ['pwd'], secondStepPending: true };
      const otp = secondStep.otp;
      if (otp === undefined || otp === null || otp === '')
        throw new AppError('mfa_required', 'Two-step sign-in is on: send the code from the authenticator app (or a recovery code) as otp.');
      return { ...toRecord(developer), amr: await this.checkSecondStep(developer.id, otp, ip) };
    }
    await this.throttle.recordSuccess(THROTTLE_SCOPE, throttleKey, ip);
    return { ...toRecord(developer), amr: ['pwd'] };
  }

  /** The code of a developer login whose password was right; throttled like a password (401 `invalid_credentials` when wrong). */
  async checkSecondStep(developerId: number, code: unknown, ip: string): Promise<string[]> {
    const throttleKey = `dev:${developerId}`;
    await this.throttle.check(THROTTLE_SCOPE, throttleKey, ip);
    if (!(await this.twoStep.verifyCode(developerId, code))) {
      await this.throttle.recordFailure(THROTTLE_SCOPE, throttleKey, ip);
      throw new AppError('invalid_credentials', 'The code is not correct.');
    }
    await this.throttle.recordSuccess(THROTTLE_SCOPE, throttleKey, ip);
    return ['pwd', 'otp', 'mfa'];
  }

  /** The password again before a security change (two-step on or off); throttled; 400 `invalid_request` when wrong. */
  async confirmPassword(developerId: number, password: unknown, ip: string): Promise<void> {
    const key = `dev:${developerId}`;
    await this.throttle.check(CONFIRM_SCOPE, key, ip);
    const developer = await this.developers.findById(developerId);
    const ok = !!developer && typeof password === 'string' && password.length > 0 && password.length <= 1000 && (await this.passwords.verify(developer.passwordHash, password));
    if (!ok) {
      await this.throttle.recordFailure(CONFIRM_SCOPE, key, ip);
      throw new AppError('invalid_request', 'Your current password is not correct.');
    }
    await this.throttle.recordSuccess(CONFIRM_SCOPE, key, ip);
  }

  /** The account using this (normalised) address, if any. */
  async findByEmail(email: string): Promise<DeveloperRecord | null> {
    const developer = await this.developers.findByEmail(email);
    return developer ? toRecord(developer) : null;
  }

  /** Hashes and stores a new password (already checked by the caller); false when the account is gone. */
  async setPassword(id: number, password: string): Promise<boolean> {
    return this.developers.setPasswordHash(id, await this.passwords.hash(password));
  }

  async findById(id: number): Promise<DeveloperRecord | null> {
    const developer = await this.developers.findById(id);
    return developer ? toRecord(developer) : null;
  }

  private emailTaken() {
    return new AppError('conflict', 'A developer account with this email already exists.');
  }
}
