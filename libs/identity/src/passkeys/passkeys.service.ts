import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import {
  AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, CountsLogins, isDuplicateKey, REDIS, sha256Hex } from '@app/common';
import { UsersRepository } from '../accounts/users.repository';
import { UserEmailsRepository } from '../accounts/user-emails.repository';
import { TwoStepService } from '../two-step/two-step.service';
import { PasskeysRepository } from './passkeys.repository';

/** How long a WebAuthn challenge may be answered. */
export const PASSKEY_CHALLENGE_SECONDS = 300;
export const PASSKEY_NAME_MAX = 100;
const MAX_PASSKEYS = 20;

export interface PasskeyView {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A verified passkey sign-in: who, how (RFC 8176 amr), and whether the second step is still needed. */
export interface PasskeySignIn {
  userId: number;
  amr: string[];
  /** A passkey without user verification is one factor: with two-step sign-in on, the code is still asked. */
  secondStepNeeded: boolean;
}

function invalid(description: string) {
  return new AppError('invalid_request', description);
}

/**
 * `amr` of a passkey sign-in. A cross-platform authenticator (a security key,
 * or a phone over hybrid transport) is separate hardware: `hwk`; a platform
 * authenticator (the device's own passkey store, often synced) or an unknown
 * attachment is counted as software-protected: `swk`. `user` is added when the
 * authenticator verified the user (PIN or biometrics).
 */
export function passkeyAmr(attachment: string | null | undefined, userVerified: boolean): string[] {
  return [attachment === 'cross-platform' ? 'hwk' : 'swk', ...(userVerified ? ['user'] : [])];
}

/**
 * Passkeys (WebAuthn discoverable credentials): registration for a signed-in
 * user, sign-in without email or password, listing and removal. RP ID = the
 * host of PUBLIC_URL, origin = PUBLIC_URL. Challenges live in Redis, single
 * use, 5 minutes.
 */
@Injectable()
export class PasskeysService {
  private readonly logger = new Logger('passkeys');

  constructor(
    private readonly repo: PasskeysRepository,
    private readonly users: UsersRepository,
    private readonly emails: UserEmailsRepository,
    private readonly twoStep: TwoStepService,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get origin(): string {
    return new URL(this.config.publicUrl).origin;
  }

  private get rpId(): string {
    return new URL(this.config.publicUrl).hostname;
  }

  async list(userId: number): Promise<PasskeyView[]> {
    return (await this.repo.listOfUser(userId)).map((r) => ({ id: Number(r.id), name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  /** Options for navigator.credentials.create() (the caller has confirmed the password). The challenge is kept per user. */
  async registrationOptions(userId: number): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await this.users.find(userId);
    if (!user) throw new AppError('unauthorized', 'Sign in first: no valid session.');
    const existing = await this.repo.listOfUser(userId);
    if (existing.length >= MAX_PASSKEYS) throw invalid(`An account can have at most ${MAX_PASSKEYS} passkeys.`);
    const options = await generateRegistrationOptions({
      rpName: 'LoginSign',
      rpID: this.rpId,
      userName: (await this.emails.primary(userId)) ?? user.global_id,
      userDisplayName: user.name,
      // The user handle is the public Global ID (no internal id, no address).
      userID: new TextEncoder().encode(user.global_id),
      attestationType: 'none',
      excludeCredentials: existing.map((r) => ({ id: r.credential_id })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      timeout: PASSKEY_CHALLENGE_SECONDS * 1000,
    });
    await this.redis.set(`passkey-reg:${userId}`, options.challenge, 'EX', PASSKEY_CHALLENGE_SECONDS);
    return options;
  }

  /** Verifies the new credential against the user's pending challenge (used up either way) and stores it under `name`. */
  async register(userId: number, response: unknown, name: unknown): Promise<PasskeyView> {
    const label = typeof name === 'string' ? name.trim() : '';
    if (label.length < 1 || [...label].length > PASSKEY_NAME_MAX) throw invalid(`Invalid field: name must be 1 to ${PASSKEY_NAME_MAX} characters.`);
    const challenge = await this.redis.getdel(`passkey-reg:${userId}`);
    if (!challenge) throw invalid('Start adding the passkey again: the request expired or was already used.');
    let info;
    try {
      const result = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpId,
        requireUserVerification: false,
      });
      if (!result.verified) throw new Error('not verified');
      info = result.registrationInfo;
    } catch (error) {
      this.logger.debug(`registration refused: ${(error as Error).message}`);
      throw invalid('The passkey could not be verified.');
    }
    const { credential } = info;
    const attachment = (response as { authenticatorAttachment?: unknown }).authenticatorAttachment;
    try {
      const id = await this.repo.insert({
        userId,
        credentialId: credential.id,
        credentialHash: sha256Hex(credential.id),
        publicKey: Buffer.from(credential.publicKey),
        signCount: credential.counter,
        transports: (credential.transports ?? []).join(','),
        attachment: attachment === 'platform' || attachment === 'cross-platform' ? attachment : null,
        name: label,
      });
      await this.twoStep.notify(userId, 'passkey-added');
      return { id, name: label, createdAt: new Date(), lastUsedAt: null };
    } catch (error) {
      if (isDuplicateKey(error)) throw new AppError('conflict', 'This passkey is already registered.');
      throw error;
    }
  }

  /** Options for navigator.credentials.get(): no allow list (discoverable credentials); the challenge is single use. */
  async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({ rpID: this.rpId, userVerification: 'preferred', timeout: PASSKEY_CHALLENGE_SECONDS * 1000 });
    await this.redis.set(`passkey-auth:${sha256Hex(options.challenge)}`, '1', 'EX', PASSKEY_CHALLENGE_SECONDS);
    return options;
  }

  /**
   * Verifies a sign-in assertion: a challenge we issued (taken once), a known
   * credential, its signature, origin and RP ID, and a signature counter that
   * went up (a cloned authenticator is refused). 401 `invalid_credentials`.
   */
  @CountsLogins('passkey')
  async signIn(response: unknown): Promise<PasskeySignIn> {
    const refused = () => new AppError('invalid_credentials', 'The passkey was not accepted.');
    const r = response as AuthenticationResponseJSON;
    if (!r || typeof r !== 'object' || typeof r.id !== 'string' || r.id.length > 1400 || typeof r.response?.clientDataJSON !== 'string') throw refused();
    let challenge: unknown;
    try {
      challenge = (JSON.parse(Buffer.from(r.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    } catch {
      throw refused();
    }
    if (typeof challenge !== 'string' || (await this.redis.del(`passkey-auth:${sha256Hex(challenge)}`)) !== 1) throw refused();
    const row = await this.repo.findByCredentialHash(sha256Hex(r.id));
    if (!row) throw refused();
    const storedCount = Number(row.sign_count);
    let info;
    try {
      const result = await verifyAuthenticationResponse({
        response: r,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpId,
        credential: { id: row.credential_id, publicKey: new Uint8Array(row.public_key), counter: storedCount, transports: [] },
        requireUserVerification: false,
      });
      if (!result.verified) throw new Error('not verified');
      info = result.authenticationInfo;
    } catch (error) {
      this.logger.debug(`sign-in refused: ${(error as Error).message}`);
      throw refused();
    }
    if (!(await this.repo.recordUse(Number(row.id), storedCount, info.newCounter))) throw refused();
    const userId = Number(row.user_id);
    const secondStepNeeded = !info.userVerified && (await this.twoStep.isEnabled(userId));
    return { userId, amr: passkeyAmr(row.attachment, info.userVerified), secondStepNeeded };
  }

  /** Removes one of the user's passkeys (the caller has confirmed the password). 404 when it is not theirs. */
  async remove(userId: number, passkeyId: number): Promise<void> {
    if (!(await this.repo.delete(userId, passkeyId))) throw new AppError('not_found', 'The passkey was not found.');
    await this.twoStep.notify(userId, 'passkey-removed');
  }
}
