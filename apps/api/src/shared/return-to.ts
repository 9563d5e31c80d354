export const DEFAULT_RETURN_TO = '/account';

/**
 * `return_to` after login/sign-up: only same-origin relative paths, so the
 * parameter can never become an open redirect. A single leading `/`, not
 * `//` or `/\` (protocol-relative in browsers), printable ASCII only (no
 * control characters, spaces or backslashes); anything else -> `/account`.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 4096) return DEFAULT_RETURN_TO;
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(value) || value.includes('\\')) return DEFAULT_RETURN_TO;
  // Belt and braces: resolved against any origin, it must stay on that origin.
  const base = 'http://same-origin.invalid';
  if (new URL(value, base).origin !== base) return DEFAULT_RETURN_TO;
  return value;
}

export const PORTAL_HOME = '/developer/apps';

/** `return_to` of the portal login: a same-origin path inside the portal, else the apps list. */
export function portalReturnTo(value: unknown): string {
  const path = safeReturnTo(value);
  return /^\/developer(\/|\?|$)/.test(path) ? path : PORTAL_HOME;
}
