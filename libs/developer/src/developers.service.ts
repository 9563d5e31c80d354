import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { AppError, isDuplicateKey, LoginThrottleService, emailThrottleKey, parseEmail, randomToken } from '@app/common';
import { DeveloperTwoStepService } from './developer-two-step.service';
import { DevelopersRepository, StoredDeveloper } from './developers.repository';
import { DEVELOPER_LIMITS } from './dto/developer.dto';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, parallelism 1. */
export const DEVELOPER_PASSWORD_HASHING = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

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
export class DevelopersService {
  /** Verified against when the email is unknown, so both failures cost the same time. */
  private readonly dummyHash: Promise<string> = argon2.hash(randomToken(), DEVELOPER_PASSWORD_HASHING);

  constructor(
    private readonly developers: DevelopersRepository,
    private readonly throttle: LoginThrottleService,
    private readonly twoStep: DeveloperTwoStepService,
  ) {}

  async signup(input: DeveloperSignup): Promise<DeveloperRecord> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > DEVELOPER_LIMITS.nameMax) {
      throw new AppError('invalid_request', `name must be 1 to ${DEVELOPER_LIMITS.nameMax} characters.`);
    }
    const { passwordMin, passwordMax } = DEVELOPER_LIMITS;
    if (input.password.length < passwordMin || input.password.length > passwordMax) {
      throw new AppError('invalid_request', `password must be ${passwordMin} to ${passwordMax} characters.`);
    }
    const email = parseEmail(input.email);
    if (email === null) throw new AppError('invalid_request', 'Invalid field: email must be a valid email address.');
    // Checked first to skip the argon2 work; the unique index settles races.
    if (await this.developers.existsByEmail(email)) throw this.emailTaken();
    const developer = { name, email, passwordHash: await argon2.hash(input.password, DEVELOPER_PASSWORD_HASHING), createdAt: new Date() };
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
    // Unknown email: verify against a hash of a random secret (always false) to spend the same time.
    const valid = await argon2.verify(developer?.passwordHash ?? (await this.dummyHash), password);
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
    const ok = !!developer && typeof password === 'string' && password.length > 0 && password.length <= 1000 && (await argon2.verify(developer.passwordHash, password));
    if (!ok) {
      await this.throttle.recordFailure(CONFIRM_SCOPE, key, ip);
      throw new AppError('invalid_request', 'Your current password is not correct.');
    }
    await this.throttle.recordSuccess(CONFIRM_SCOPE, key, ip);
  }

  async findById(id: number): Promise<DeveloperRecord | null> {
    const developer = await this.developers.findById(id);
    return developer ? toRecord(developer) : null;
  }

  private emailTaken() {
    return new AppError('conflict', 'A developer account with this email already exists.');
  }
}
