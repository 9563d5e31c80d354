import { AppError } from '@app/common';

/** Scopes LoginSign grants today (`openid`: an id_token; `offline_access`: refresh tokens). */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export const DEFAULT_SCOPE = 'profile email';

/** Space-separated scope string -> sorted unique list; unknown scopes throw invalid_scope (the token endpoint's rule). */
export function parseScope(raw: string | undefined): string[] {
  const value = raw === undefined || raw.trim() === '' ? DEFAULT_SCOPE : raw;
  const scopes = [...new Set(value.split(' ').filter(Boolean))];
  const unknown = scopes.filter((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new AppError('invalid_scope', `Unsupported scope: ${unknown.join(' ')}.`);
  return scopes.sort();
}

/**
 * The scope of an authorization request: values we do not support are
 * ignored (neither granted nor echoed); nothing left means the default.
 */
export function authorizationScopes(raw: string | undefined): string[] {
  const known = (raw ?? '').split(' ').filter((s) => (SUPPORTED_SCOPES as readonly string[]).includes(s));
  return parseScope(known.join(' '));
}

export function isSubset(requested: string[], granted: string[]): boolean {
  return requested.every((s) => granted.includes(s));
}
