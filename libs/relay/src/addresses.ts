import { createHmac, timingSafeEqual } from 'node:crypto';

/** An envelope address split at the last `@`; both parts lower-cased. */
export interface Address {
  local: string;
  domain: string;
  address: string;
}

export function parseAddress(value: string | null | undefined): Address | null {
  if (!value) return null;
  const address = value.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at < 1 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1), address };
}

/** The relay's HMAC key, derived from SESSION_SECRET (no extra secret to manage). */
export function relayKey(sessionSecret: Buffer): Buffer {
  return createHmac('sha256', sessionSecret).update('loginsign relay v1').digest();
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

function mac(key: Buffer, ...parts: string[]): Buffer {
  return createHmac('sha256', key).update(parts.join('\0')).digest();
}

/** Relay addresses handed out to users: 6 characters [a-z0-9]. */
export const RELAY_LOCAL = /^[a-z0-9]{6}$/;

/**
 * The relay form of an original sender, as seen by one user: `r-<alias>`,
 * alias = 26 base32 characters (130 bits) of HMAC(key, connection, sender).
 * Deterministic (one alias per connection and sender), unguessable, and only
 * the relay writes aliases into relay_reply_aliases, so none can be forged.
 */
export function replyAlias(key: Buffer, connectionId: string, sender: string): string {
  return base32(mac(key, 'reply', connectionId, sender.toLowerCase()), 26);
}

const REPLY_LOCAL = /^r-([a-z2-7]{26})$/;

export function replyLocalPart(alias: string): string {
  return `r-${alias}`;
}

/** The alias of a reply address' local part, or null. */
export function parseReplyLocal(local: string): string | null {
  return REPLY_LOCAL.exec(local)?.[1] ?? null;
}

const DAY_MS = 86_400_000;
const SRS_MAX_AGE_DAYS = 21;

/** Days since the epoch modulo 1024, as two base32 characters (SRS "TT"). */
function srsDay(now: number): string {
  const day = Math.floor(now / DAY_MS) & 1023;
  return BASE32[day >> 5] + BASE32[day & 31];
}

function srsHash(key: Buffer, day: string, domain: string, local: string): string {
  return base32(mac(key, 'srs', day, domain, local), 8);
}

/**
 * SRS-style envelope sender for forwarded mail: bounces come back to
 * RELAY_DOMAIN instead of the user's provider sending them to the original
 * sender (which would reveal the user's address). `srs0=<hash>=<day>=<domain>=<local>`.
 */
export function srsEncode(key: Buffer, original: Address | null, relayDomain: string, now = Date.now()): string {
  if (!original) return `bounces@${relayDomain}`;
  const day = srsDay(now);
  return `srs0=${srsHash(key, day, original.domain, original.local)}=${day}=${original.domain}=${original.local}@${relayDomain}`;
}

/** The original sender of a valid, unexpired SRS address' local part, or null. */
export function srsDecode(key: Buffer, local: string, now = Date.now()): string | null {
  const match = /^srs0=([a-z2-7]{8})=([a-z2-7]{2})=([^=]+)=(.+)$/.exec(local.toLowerCase());
  if (!match) return null;
  const [, hash, day, domain, originalLocal] = match;
  const expected = Buffer.from(srsHash(key, day, domain, originalLocal));
  if (!timingSafeEqual(expected, Buffer.from(hash))) return null;
  // Days are kept modulo 1024; an address older than the window is refused.
  const today = Math.floor(now / DAY_MS) & 1023;
  const sent = base32Decode(day) & 1023;
  if ((today - sent + 1024) % 1024 > SRS_MAX_AGE_DAYS) return null;
  return `${originalLocal}@${domain}`;
}

function base32Decode(text: string): number {
  let value = 0;
  for (const ch of text) value = (value << 5) | BASE32.indexOf(ch);
  return value;
}

/** An application's registered senders: an exact address, or any address at an exact domain. */
export function senderRegistered(sender: Address | null, domains: string[], addresses: string[]): boolean {
  if (!sender) return false;
  return addresses.includes(sender.address) || domains.includes(sender.domain);
}
