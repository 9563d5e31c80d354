import { AppError } from '@app/common';

/** How an application's id_tokens are signed (OIDC Registration `id_token_signed_response_alg`); RS256 unless it asks for ES256. */
export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];

/** Field limits of applications (match the `applications` columns). */
export const APPLICATION_LIMITS = {
  nameMax: 100,
  redirectUrisMin: 1,
  redirectUrisMax: 20,
  urlMax: 2048,
  senderDomainsMax: 50,
  senderAddressesMax: 100,
  domainMax: 253,
  emailMax: 320,
} as const;

/**
 * Characters RFC 3986 allows in a URI. Anything else (spaces, quotes,
 * backslashes, non-ASCII) must be percent-encoded; refusing it keeps the
 * stored string unambiguous for the exact match at /oauth/authorize.
 */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

/** Scheme and a non-empty authority, as written (WHATWG URL parsing alone is too lenient: it accepts `https:host`). */
const HTTP_PREFIX = /^(https?):\/\/([^/?#]+)/;

/** Loopback IP literals (RFC 8252 8.3: not `localhost`, which DNS or a hosts file may point elsewhere). */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);

/** A private-use URI scheme in reverse-DNS form (RFC 8252 7.1), e.g. `com.example.app`. */
const REVERSE_DNS_SCHEME = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** `web` is a confidential client (it keeps a secret); `spa` and `native` are public clients. */
export const APPLICATION_TYPES = ['web', 'spa', 'native'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

export const isPublicClient = (type: ApplicationType) => type !== 'web';

/** The type at creation: absent = `web`. */
export function checkApplicationType(value: unknown): ApplicationType {
  if (value === undefined) return 'web';
  if (!APPLICATION_TYPES.includes(value as ApplicationType)) throw new AppError('invalid_request', `type must be one of ${APPLICATION_TYPES.join(', ')}.`);
  return value as ApplicationType;
}

const invalid = (description: string) => new AppError('invalid_request', description);

function checkUriText(value: string, field: string): void {
  if (value.length === 0) throw invalid(`${field} must not be empty.`);
  if (value.length > APPLICATION_LIMITS.urlMax) throw invalid(`${field} must be at most ${APPLICATION_LIMITS.urlMax} characters.`);
  if (!URI_CHARS.test(value)) throw invalid(`${field} contains characters not allowed in a URL (spaces, quotes, non-ASCII); percent-encode them.`);
}

function parseHttpUrl(value: string, field: string): { url: URL; authority: string } {
  checkUriText(value, field);
  const prefix = HTTP_PREFIX.exec(value);
  if (!prefix) throw invalid(`${field} must be an absolute URL starting with https://.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field} is not a valid URL.`);
  }
  return { url, authority: prefix[2] };
}

/** A private-use scheme redirect of a native app (`com.example.app:/callback`). */
function checkPrivateUseUri(uri: string, field: string, type: ApplicationType): void {
  const scheme = SCHEME.exec(uri)?.[1];
  if (!scheme || /^https?$/i.test(scheme)) throw invalid(`${field} must be an absolute URL starting with https://.`);
  if (type !== 'native') throw invalid(`${field}: only native applications may use a private-use scheme (${scheme}:); web and spa apps use https.`);
  if (!REVERSE_DNS_SCHEME.test(scheme)) {
    throw invalid(`${field}: a private-use scheme must be a lower-case reverse domain name such as com.example.app (RFC 8252 7.1).`);
  }
  if (uri.length === scheme.length + 1) throw invalid(`${field} needs a path after the scheme, e.g. ${scheme}:/callback.`);
  try {
    new URL(uri);
  } catch {
    throw invalid(`${field} is not a valid URI.`);
  }
}

function checkRedirectUri(uri: unknown, field: string, type: ApplicationType): void {
  if (typeof uri !== 'string') throw invalid(`${field} must be a string.`);
  if (uri.includes('#')) throw invalid(`${field} must not contain a fragment (#).`);
  if (uri.includes('*')) throw invalid(`${field} must not contain a wildcard (*).`);
  checkUriText(uri, field);
  if (!HTTP_PREFIX.test(uri)) return checkPrivateUseUri(uri, field, type);
  const { url, authority } = parseHttpUrl(uri, field);
  if (authority.includes('@')) throw invalid(`${field} must not contain user credentials (user@host).`);
  if (url.protocol === 'http:' && !LOOPBACK_IPS.has(url.hostname)) {
    throw invalid(`${field} must use https (http is allowed only on the loopback addresses 127.0.0.1 and [::1]).`);
  }
}

function checkUriList(value: unknown, field: string, type: ApplicationType, min: number): string[] {
  const max = APPLICATION_LIMITS.redirectUrisMax;
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of URLs.`);
  if (value.length < min || value.length > max) throw invalid(`${field} must hold ${min} to ${max} URLs.`);
  value.forEach((uri, i) => checkRedirectUri(uri, `${field}[${i}]`, type));
  if (new Set(value).size !== value.length) throw invalid(`${field} must not contain duplicates.`);
  return [...(value as string[])];
}

/**
 * Registered redirect URIs: 1..20 absolute URIs, no fragment, no wildcard, no
 * userinfo: https, or http on a loopback IP literal (RFC 8252 7.3); a native
 * app may also use private-use schemes in reverse-DNS form (RFC 8252 7.1).
 * They are stored exactly as given; /oauth/authorize compares by string
 * equality (see redirectUriMatches for the one exception).
 */
export function checkRedirectUris(value: unknown, type: ApplicationType): string[] {
  return checkUriList(value, 'redirectUris', type, APPLICATION_LIMITS.redirectUrisMin);
}

/** Where RP-initiated logout may send the browser back to: the same rules, 0..20 URIs. */
export function checkPostLogoutRedirectUris(value: unknown, type: ApplicationType): string[] {
  return checkUriList(value, 'postLogoutRedirectUris', type, 0);
}

const LOOPBACK_WITH_PORT = /^http:\/\/(127\.0\.0\.1|\[::1\]):([1-9][0-9]{0,4})([/?].*)?$/;

/**
 * Exact string match, except that a native app's loopback URI registered
 * without a port matches that URI on any port (RFC 8252 7.3: the app listens
 * on an ephemeral port).
 */
export function redirectUriMatches(app: { type: ApplicationType; redirectUris: string[] }, presented: string): boolean {
  if (app.redirectUris.includes(presented)) return true;
  if (app.type !== 'native') return false;
  const loopback = LOOPBACK_WITH_PORT.exec(presented);
  if (!loopback || Number(loopback[2]) > 65535) return false;
  return app.redirectUris.includes(`http://${loopback[1]}${loopback[3] ?? ''}`);
}

/**
 * Webhook endpoint: https, or http outside production. Private and loopback
 * targets are refused by the delivery worker at send time (DNS may change
 * after registration, so a check here would prove nothing).
 */
export function checkWebhookUrl(value: unknown, allowHttp: boolean): string {
  if (typeof value !== 'string') throw invalid('webhookUrl must be a string or null.');
  const { url } = parseHttpUrl(value, 'webhookUrl');
  if (url.protocol !== 'https:' && !allowHttp) throw invalid('webhookUrl must use https.');
  return value;
}

/** Logo shown on the consent page: https only (the pages' CSP allows https images). */
export function checkLogoUrl(value: unknown): string {
  if (typeof value !== 'string') throw invalid('logoUrl must be a string or null.');
  const { url } = parseHttpUrl(value, 'logoUrl');
  if (url.protocol !== 'https:') throw invalid('logoUrl must use https.');
  return value;
}

export function checkIdTokenSigningAlg(value: unknown): IdTokenSigningAlg {
  if (!(ID_TOKEN_SIGNING_ALGS as readonly unknown[]).includes(value)) throw invalid(`idTokenSigningAlg must be one of ${ID_TOKEN_SIGNING_ALGS.join(', ')}.`);
  return value as IdTokenSigningAlg;
}

/** Application names are trimmed; 1..100 characters remain. */
export function checkApplicationName(value: unknown): string {
  if (typeof value !== 'string') throw invalid('name must be a string.');
  const name = value.trim();
  if (name.length < 1 || name.length > APPLICATION_LIMITS.nameMax) {
    throw invalid(`name must be 1 to ${APPLICATION_LIMITS.nameMax} characters.`);
  }
  return name;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const LOCAL_PART = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;

function senderList(value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of strings.`);
  if (value.length > max) throw invalid(`${field} must hold at most ${max} entries.`);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw invalid(`${field}[${i}] must be a string.`);
    return item.trim().toLowerCase();
  });
}

function notRelayDomain(domain: string, relayDomain: string, field: string) {
  if (domain === relayDomain || domain.endsWith(`.${relayDomain}`)) throw invalid(`${field} must not be the relay domain ${relayDomain}.`);
}

/**
 * Registered sender domains of relay mail: lower-cased host names, no
 * duplicates, never the relay domain itself (mail would loop). A domain
 * matches senders at exactly that domain.
 */
export function checkSenderDomains(value: unknown, relayDomain: string): string[] {
  const domains = senderList(value, 'senderDomains', APPLICATION_LIMITS.senderDomainsMax);
  domains.forEach((domain, i) => {
    if (!DOMAIN.test(domain)) throw invalid(`senderDomains[${i}] must be a domain name such as mail.example.com.`);
    notRelayDomain(domain, relayDomain, `senderDomains[${i}]`);
  });
  return [...new Set(domains)];
}

/** Registered sender addresses of relay mail: lower-cased, no duplicates, never at the relay domain. */
export function checkSenderAddresses(value: unknown, relayDomain: string): string[] {
  const addresses = senderList(value, 'senderAddresses', APPLICATION_LIMITS.senderAddressesMax);
  addresses.forEach((address, i) => {
    const at = address.lastIndexOf('@');
    if (address.length > APPLICATION_LIMITS.emailMax || at < 1 || !LOCAL_PART.test(address.slice(0, at)) || !DOMAIN.test(address.slice(at + 1))) {
      throw invalid(`senderAddresses[${i}] must be an email address.`);
    }
    notRelayDomain(address.slice(at + 1), relayDomain, `senderAddresses[${i}]`);
  });
  return [...new Set(addresses)];
}
