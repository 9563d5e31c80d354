import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32 } as const;

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/**
 * The password hashing of every account kind (end users and developers):
 * argon2id with ARGON2_OPTIONS, stored as a PHC string.
 */
@Injectable()
export class PasswordHasher {
  private dummy?: Promise<string>;

  /**
   * argon2id hash in the canonical PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
   * Encoded here because the argon2 package writes the parameters as `m,p,t`,
   * unlike the reference implementation and other libraries. Verification
   * reads the parameters by name, so hashes in either order verify.
   */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const hash = await argon2.hash(password, { ...ARGON2_OPTIONS, salt, raw: true });
    const { memoryCost: m, timeCost: t, parallelism: p } = ARGON2_OPTIONS;
    return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
  }

  /**
   * Constant-time check (inside argon2); a malformed stored hash is simply a
   * mismatch. Without a stored hash (unknown account) the password is checked
   * against a hash of a random secret, so both failures cost the same time.
   */
  async verify(storedHash: string | null | undefined, password: string): Promise<boolean> {
    const hash = storedHash ?? (await this.dummyHash());
    const ok = await argon2.verify(hash, password).catch(() => false);
    return ok && !!storedHash;
  }

  /** The hash an unknown account is checked against; computed once, so call it at boot to warm it up. */
  dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(32).toString('base64url'));
    return this.dummy;
  }
}
