import { randomBytes } from 'node:crypto';
import * as argon2 from 'argon2';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1, hashLength: 32 } as const;

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/**
 * argon2id hash in the canonical PHC string `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
 * We encode it ourselves because the argon2 package writes the parameters as
 * `m,p,t`, unlike the reference implementation and other libraries.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await argon2.hash(password, { ...ARGON2_OPTIONS, salt, raw: true });
  const { memoryCost: m, timeCost: t, parallelism: p } = ARGON2_OPTIONS;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
}

/** Constant-time check (inside argon2); a malformed stored hash is simply a mismatch. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, password).catch(() => false);
}
