/**
 * Header surgery on a raw RFC 5322 message. The body (text, HTML,
 * attachments) is passed through byte for byte; only header fields are
 * removed or added. Headers are handled as latin1 so 8-bit bytes survive.
 */
export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** The whole field as received, folded lines and line ending included. */
  raw: string;
}

export interface SplitMessage {
  headers: HeaderField[];
  /** The separator (empty line) and body, untouched. */
  rest: Buffer;
}

export function splitMessage(raw: Buffer): SplitMessage {
  const text = raw.toString('latin1');
  let end = text.search(/\r?\n\r?\n/);
  if (end < 0) end = text.length;
  else end += text[end] === '\r' ? 2 : 1; // keep the last header line's ending with the headers
  const headerText = text.slice(0, end);
  const headers: HeaderField[] = [];
  for (const line of headerText.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1].raw += line;
    else {
      const colon = line.indexOf(':');
      headers.push({ name: (colon > 0 ? line.slice(0, colon) : line).trim().toLowerCase(), raw: line });
    }
  }
  return { headers, rest: raw.subarray(Buffer.byteLength(headerText, 'latin1')) };
}

/** The unfolded value of the first field `name`, or null. */
export function headerValue(message: SplitMessage, name: string): string | null {
  const field = message.headers.find((h) => h.name === name);
  if (!field) return null;
  return field.raw
    .slice(field.raw.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/** A mailbox from a From / Reply-To value: `Name <a@b>` or `a@b` (the first one of a list). */
export function parseMailbox(value: string | null): { name: string; address: string } | null {
  if (!value) return null;
  const angle = /^(.*?)<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (angle)
    return {
      name: angle[1]
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .trim(),
      address: angle[2].toLowerCase(),
    };
  const bare = /([^\s<>,;"]+@[^\s<>,;"]+)/.exec(value);
  return bare ? { name: '', address: bare[1].toLowerCase() } : null;
}

/** `"Name" <address>`; encoded words (=?..?=) are kept as they are, other names are quoted. */
export function formatMailbox(name: string, address: string): string {
  const clean = name.replace(/[\r\n]/g, ' ').trim();
  if (!clean) return address;
  if (/=\?[^?]+\?[bqBQ]\?/.test(clean)) return `${clean} <${address}>`;
  return `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}" <${address}>`;
}

export function buildMessage(message: SplitMessage, drop: (name: string) => boolean, add: [string, string][]): Buffer {
  const eol = message.headers[0]?.raw.endsWith('\r\n') === false ? '\n' : '\r\n';
  const added = add.map(([name, value]) => `${name}: ${value.replace(/[\r\n]+/g, ' ')}${eol}`).join('');
  const kept = message.headers
    .filter((h) => !drop(h.name))
    .map((h) => h.raw)
    .join('');
  return Buffer.concat([Buffer.from(added + kept, 'latin1'), message.rest]);
}

/** Fields that never pass through the relay: identity of the sending side, signatures, our own markers. */
const ALWAYS_DROPPED = new Set(['sender', 'reply-to', 'return-path', 'dkim-signature', 'domainkey-signature', 'delivered-to', 'x-original-to']);
const droppedAlways = (name: string) => ALWAYS_DROPPED.has(name) || name.startsWith('arc-') || name.startsWith('x-loginsign-');

export interface ForwardHeaders {
  /** The relay form of the sender (the reply alias at RELAY_DOMAIN). */
  from: string;
  /** Display name for it. */
  displayName: string;
  originalFrom: string;
  messageId: string;
  applicationId: string;
}

/** The forwarded copy: From = relay form of the sender, X-LoginSign-Relay headers, everything else kept. */
export function rewriteForForward(raw: Buffer, h: ForwardHeaders): Buffer {
  const message = splitMessage(raw);
  return buildMessage(message, (name) => name === 'from' || droppedAlways(name), [
    ['From', formatMailbox(h.displayName, h.from)],
    ['X-LoginSign-Relay', `forwarded; id=${h.messageId}; application=${h.applicationId}`],
    ['X-LoginSign-Relay-Original-From', h.originalFrom],
  ]);
}

/** Everything in a reply that could name the user's mailbox, its host or its provider. */
const REPLY_DROPPED = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'message-id',
  'received',
  'x-originating-ip',
  'x-sender',
  'x-envelope-from',
  'disposition-notification-to',
  'return-receipt-to',
  'x-google-smtp-source',
  'authentication-results',
  'received-spf',
]);

export interface ReplyHeaders {
  /** The user's relay address. */
  from: string;
  /** The original sender. */
  to: string;
  messageId: string;
  relayDomain: string;
  /** The user's real addresses: replaced by the relay address wherever they appear. */
  hide: string[];
}

/** The reply as the original sender gets it: from the relay address, no trace of the real one. */
export function rewriteForReply(raw: Buffer, h: ReplyHeaders): Buffer {
  const message = splitMessage(raw);
  const rebuilt = buildMessage(message, (name) => REPLY_DROPPED.has(name) || droppedAlways(name), [
    ['From', h.from],
    ['To', h.to],
    ['Message-ID', `<${h.messageId}@${h.relayDomain}>`],
    ['X-LoginSign-Relay', `reply; id=${h.messageId}`],
  ]);
  let text = rebuilt.toString('latin1');
  for (const address of h.hide) {
    if (!address) continue;
    text = text.replace(new RegExp(address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), h.from);
  }
  return Buffer.from(text, 'latin1');
}
