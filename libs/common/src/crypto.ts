import { createCipheriv, createDecipheriv, createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: 256 bits for secrets, codes and tokens. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Random string over [a-z0-9] (rejection sampling keeps it unbiased). */
export function randomAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 252 && out.length < length) out += ID_ALPHABET[byte % 36];
    }
  }
  return out;
}

/** Opaque identifiers such as `app_3k9...` or `c_...`: 20 chars = ~103 bits. */
export function randomId(prefix: string): string {
  return `${prefix}_${randomAlnum(20)}`;
}

// crypto.hash: one call instead of a Hash object per digest (about half the time; access tokens are hashed per request).
export function sha256(value: string | Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}

export function sha256Hex(value: string | Buffer): string {
  return hash('sha256', value, 'hex');
}

export function sha256Base64(value: string | Buffer): string {
  return hash('sha256', value, 'base64');
}

export function hmacSha256(key: Buffer | string, value: string | Buffer): Buffer {
  return createHmac('sha256', key).update(value).digest();
}

/** Constant-time equality for buffers or strings of possibly different length. */
export function safeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const ab = typeof a === 'string' ? Buffer.from(a) : a;
  const bb = typeof b === 'string' ? Buffer.from(b) : b;
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** AES-256-GCM for secrets that must be read back (webhook secrets, private keys). */
export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function decrypt(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
