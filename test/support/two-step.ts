import { authenticator } from 'otplib';

/** The code an authenticator app shows `steps` 30-second steps from now. */
export function totp(secret: string, steps = 0): string {
  return authenticator.clone({ epoch: Date.now() + steps * 30_000 }).generate(secret);
}

/** A 6-digit code that matches none of the steps the server accepts now (previous, current, next). */
export function wrongCode(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((step) => totp(secret, step)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** The TOTP secret a set-up page shows. */
export const totpSecretIn = (html: string): string => /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(html)![1];

/** The recovery codes a confirmation page shows (once). */
export const recoveryCodesIn = (html: string): string[] => [...html.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
