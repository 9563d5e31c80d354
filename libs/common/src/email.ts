import { isEmail } from 'class-validator';
import { INVISIBLE, isWellFormedUtf16 } from './unicode';

/** Longest address accepted anywhere (RFC 5321 path limit). */
export const EMAIL_MAX = 320;

/** Only ASCII spaces, tabs and line breaks around an address are dropped (not BOMs or other invisible characters). */
export function trimEmail(email: string): string {
  return email.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/**
 * The one normal form of an address, used to store, look up and compare it:
 * trimmed (trimEmail), Unicode NFC, lower-cased. Stored addresses are compared byte for
 * byte (binary collation), so two spellings are the same address only when
 * their normal forms are equal.
 */
export function normalizeEmail(email: string): string {
  const trimmed = trimEmail(email);
  return (isWellFormedUtf16(trimmed) ? trimmed.normalize('NFC') : trimmed).toLowerCase();
}

/**
 * The normalised address when it is acceptable, else null: well-formed,
 * no control, format or other invisible character, at most EMAIL_MAX, and a
 * valid address. The same rule for sign-up, login, password reset, linking
 * and an application's address.
 */
export function parseEmail(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const email = normalizeEmail(raw);
  if (email.length === 0 || email.length > EMAIL_MAX || !isWellFormedUtf16(email) || INVISIBLE.test(email) || /\s/.test(email)) return null;
  return isEmail(email) ? email : null;
}

/**
 * The key a login throttle counts an unknown or unacceptable address under:
 * its normal form without the invisible characters, so spellings that differ
 * only by them share one budget.
 */
export function emailThrottleKey(raw: string): string {
  const visible = [...raw].filter((ch) => !INVISIBLE.test(ch)).join('');
  return `email:${normalizeEmail(visible)}`;
}
