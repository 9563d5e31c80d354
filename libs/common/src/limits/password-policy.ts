import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AppError } from '../errors';

/** Passwords are 8 to 128 characters (code points, as people count them). */
export const PASSWORD_POLICY = { min: 8, max: 128 } as const;

/**
 * The 100,000 most common passwords of a public 10-million-password corpus
 * (xato.net, as published in SecLists), gzipped in libs/common/data. Read
 * once into a Set: each check is O(1).
 */
let commonPasswords: Set<string> | undefined;

function passwordListPath(): string {
  // Source (libs/common/src/limits) and build output (dist/libs/common/src/limits) both sit two levels below the lib root.
  const candidates = [resolve(__dirname, '../../data/common-passwords.txt.gz'), resolve(process.cwd(), 'libs/common/data/common-passwords.txt.gz')];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`The common password list is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Loads the list (idempotent); returns how many entries it holds. */
export function loadCommonPasswords(): number {
  commonPasswords ??= new Set(gunzipSync(readFileSync(passwordListPath())).toString('utf8').split('\n').filter(Boolean));
  return commonPasswords.size;
}

/** True when the password, or its lower-case form, is on the common list. */
export function isCommonPassword(password: string): boolean {
  loadCommonPasswords();
  return commonPasswords!.has(password) || commonPasswords!.has(password.toLowerCase());
}

/**
 * The one password rule of sign-up, password change and reset, for users and
 * developers: 8..128 characters and not a well-known common password.
 * Returns the password; throws 400 `invalid_request` saying why.
 */
export function checkPasswordPolicy(password: unknown, fieldName = 'password'): string {
  if (typeof password !== 'string') throw new AppError('invalid_request', `Invalid field: ${fieldName} must be a string.`);
  const length = [...password].length;
  if (length < PASSWORD_POLICY.min || length > PASSWORD_POLICY.max) {
    throw new AppError('invalid_request', `Invalid field: ${fieldName} must be ${PASSWORD_POLICY.min} to ${PASSWORD_POLICY.max} characters.`).withField(fieldName);
  }
  if (isCommonPassword(password)) {
    throw new AppError('invalid_request', `Invalid field: ${fieldName} is one of the most common passwords, which attackers try first. Choose another one.`).withField(fieldName);
  }
  return password;
}
