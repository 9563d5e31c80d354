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

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const invalid = (description: string) => new AppError('invalid_request', description);

function parseHttpUrl(value: string, field: string): { url: URL; authority: string } {
  if (value.length === 0) throw invalid(`${field} must not be empty.`);
  if (value.length > APPLICATION_LIMITS.urlMax) throw invalid(`${field} must be at most ${APPLICATION_LIMITS.urlMax} characters.`);
  if (!URI_CHARS.test(value)) throw invalid(`${field} contains characters not allowed in a URL (spaces, quotes, non-ASCII); percent-encode them.`);
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

/**
 * Registered redirect URIs: 1..20 absolute URLs, https (http only for
 * loopback hosts, for local development), no fragment, no wildcard, no
 * userinfo. They are stored exactly as given; /oauth/authorize compares by
 * string equality. Custom schemes (native apps, RFC 8252) are refused for
 * now: they need their own rules (claimed schemes, PKCE required).
 */
export function checkRedirectUris(value: unknown): string[] {
  const { redirectUrisMin: min, redirectUrisMax: max } = APPLICATION_LIMITS;
  if (!Array.isArray(value)) throw invalid('redirectUris must be an array of URLs.');
  if (value.length < min || value.length > max) throw invalid(`redirectUris must hold ${min} to ${max} URLs.`);
  value.forEach((uri, i) => {
    const field = `redirectUris[${i}]`;
    if (typeof uri !== 'string') throw invalid(`${field} must be a string.`);
    if (uri.includes('#')) throw invalid(`${field} must not contain a fragment (#).`);
    if (uri.includes('*')) throw invalid(`${field} must not contain a wildcard (*).`);
    const { url, authority } = parseHttpUrl(uri, field);
    if (authority.includes('@')) throw invalid(`${field} must not contain user credentials (user@host).`);
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      throw invalid(`${field} must use https (http is allowed only for 127.0.0.1, [::1] and localhost).`);
    }
  });
  if (new Set(value).size !== value.length) throw invalid('redirectUris must not contain duplicates.');
  return [...(value as string[])];
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
