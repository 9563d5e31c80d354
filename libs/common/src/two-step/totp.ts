import { authenticator } from 'otplib';
import { toString as qrToString } from 'qrcode';
import { randomAlnum, sha256Hex } from '../crypto';

/** RFC 6238 as authenticator apps expect it: SHA-1, 30-second steps, 6 digits. */
export const TOTP_STEP_SECONDS = 30;
/** Codes of the previous and the next step are accepted too (clock drift). */
const TOTP_WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

/** A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation) in base32. */
export function newTotpSecret(): string {
  return authenticator.generateSecret(20);
}

/** The `otpauth://totp/...` URI authenticator apps read from the QR code. */
export function totpUri(accountName: string, secret: string): string {
  return authenticator.keyuri(accountName, 'LoginSign', secret);
}

/** The QR code of `uri` as an inline SVG document, rendered here (no external service). */
export function qrSvg(uri: string): Promise<string> {
  return qrToString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 200 });
}

/**
 * The 30-second step a 6-digit code belongs to (now, one before or one after),
 * or null when it matches none. Callers remember the step to refuse a replay.
 */
export function matchTotpStep(secret: string, code: string, nowMs = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = authenticator.clone({ window: TOTP_WINDOW, epoch: nowMs }).checkDelta(code, secret);
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS) + delta;
}

/** Recovery codes: 10 characters of [a-z0-9] (about 51 bits), shown as `xxxxx-xxxxx`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = randomAlnum(10);
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
}

/** What a typed recovery code is compared as: lower case, without spaces or dashes. */
export function normalizeRecoveryCode(code: string): string | null {
  const normalized = code.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z0-9]{10}$/.test(normalized) ? normalized : null;
}

export function hashRecoveryCode(normalized: string): string {
  return sha256Hex(`recovery:${normalized}`);
}
