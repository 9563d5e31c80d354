import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord } from 'nodemailer/lib/mime-funcs';
import libmime from 'libmime';
import * as qp from 'nodemailer/lib/qp';
import * as b64 from 'nodemailer/lib/base64';

const decodeWords = (value: string): string => libmime.decodeWords(value);

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

/** Offset just past the header section's last line ending (the empty line stays in `rest`). Linear. */
function headerEnd(raw: Buffer): number {
  // An entity that starts with an empty line has no header fields.
  if (raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a)) return 0;
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return raw.length;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return crlf + 2;
  return lf + 1;
}

/** Header fields and the rest, in one pass over the header section (no backtracking expressions). */
export function splitMessage(raw: Buffer): SplitMessage {
  const end = headerEnd(raw);
  const headerText = raw.subarray(0, end).toString('latin1');
  const headers: HeaderField[] = [];
  let start = 0;
  while (start < headerText.length) {
    const nl = headerText.indexOf('\n', start);
    const stop = nl < 0 ? headerText.length : nl + 1;
    const line = headerText.slice(start, stop);
    start = stop;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length) headers[headers.length - 1].raw += line;
    else {
      const colon = line.indexOf(':');
      headers.push({ name: (colon > 0 ? line.slice(0, colon) : line).trim().toLowerCase(), raw: line });
    }
  }
  return { headers, rest: raw.subarray(end) };
}

/** The unfolded value of the first field `name`, or null. */
export function headerValue(message: SplitMessage, name: string): string | null {
  const field = message.headers.find((h) => h.name === name);
  if (!field) return null;
  return unfold(field.raw.slice(field.raw.indexOf(':') + 1)).trim();
}

/** Line endings and the folding whitespace after them become one space. Linear. */
function unfold(value: string): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === '\r' || c === '\n') {
      while (i < value.length && (value[i] === '\r' || value[i] === '\n' || value[i] === ' ' || value[i] === '\t')) i++;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The mailboxes of an address field (groups flattened), parsed by a linear tokenizer. */
export function parseMailboxes(value: string | null): { name: string; address: string }[] {
  if (!value) return [];
  return addressparser(value, { flatten: true })
    .filter((m) => m.address && m.address.includes('@'))
    .map((m) => ({ name: decodeWords(m.name ?? '').trim(), address: m.address.toLowerCase() }));
}

/** A mailbox from a From / Reply-To value (the first one of a list). */
export function parseMailbox(value: string | null): { name: string; address: string } | null {
  return parseMailboxes(value)[0] ?? null;
}

/**
 * One mailbox: `"Name" <address>` with the name as a quoted-string, or RFC
 * 2047 encoded words when it is not ASCII; no `@` or `,` outside them.
 */
export function formatMailbox(name: string, address: string): string {
  const clean = name.replace(/[\r\n\t]+/g, ' ').trim();
  if (!clean) return address;
  // Printable ASCII only (control characters would be read as structure).
  if (/^[\x20-\x7e]*$/.test(clean)) return `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}" <${address}>`;
  return `${encodeWord(clean, 'B', 52)} <${address}>`;
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
  /** The user's relay address (the only To of the forwarded copy). */
  to: string;
  /** Display name for it. */
  displayName: string;
  originalFrom: string;
  messageId: string;
  applicationId: string;
}

/**
 * Every field a reply or reply-all uses: rebuilt (From, To) or dropped, so
 * none names an address that bypasses the relay.
 */
const FORWARD_REBUILT = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'sender',
  'mail-followup-to',
  'mail-reply-to',
  'resent-from',
  'resent-sender',
  'resent-to',
  'resent-cc',
  'resent-reply-to',
]);

/** The forwarded copy: From = relay form of the sender, To = the relay address, X-LoginSign-Relay headers, everything else kept. */
export function rewriteForForward(raw: Buffer, h: ForwardHeaders): Buffer {
  const message = splitMessage(raw);
  return buildMessage(message, (name) => FORWARD_REBUILT.has(name) || droppedAlways(name), [
    ['From', formatMailbox(h.displayName, h.from)],
    ['To', h.to],
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
  return rewriteEntity(rebuilt, hider(h.hide, h.from), 0);
}

/** Replaces every address of `hide` (any case) with `by`. Literal patterns only: linear. */
function hider(hide: string[], by: string): (text: string) => string {
  const addresses = [...new Set(hide.filter(Boolean).map((a) => a.toLowerCase()))];
  if (!addresses.length) return (text) => text;
  const pattern = new RegExp(addresses.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gi');
  return (text) => text.replace(pattern, by);
}

/** Nesting beyond this is passed through as bytes (after the plain replacement). */
const MAX_MIME_DEPTH = 20;

/**
 * One MIME entity, part by part: header fields with encoded words decoded,
 * text parts decoded (base64, quoted-printable, their charset), rewritten
 * and re-encoded. Structure and every other byte are kept.
 */
function rewriteEntity(raw: Buffer, replace: (text: string) => string, depth: number): Buffer {
  const message = splitMessage(raw);
  const contentType = libmime.parseHeaderValue(headerValue(message, 'content-type') ?? 'text/plain');
  const type = String(contentType.value).toLowerCase();
  const params = contentType.params;
  const sep = message.rest.indexOf('\n') + 1;
  const separator = message.rest.subarray(0, sep);
  let body = message.rest.subarray(sep);
  let headers = message.headers.map((h) => rewriteField(h, replace));
  if (depth < MAX_MIME_DEPTH && type.startsWith('multipart/') && params.boundary) {
    body = rewriteMultipart(body, params.boundary, replace, depth + 1);
  } else if (depth < MAX_MIME_DEPTH && type === 'message/rfc822') {
    body = rewriteEntity(body, replace, depth + 1);
  } else if (type.startsWith('text/')) {
    const encoding = (headerValue(message, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    const bytes = encoding === 'base64' ? Buffer.from(body.toString('latin1'), 'base64') : encoding === 'quoted-printable' ? qpDecode(body) : body;
    const text = decodeCharset(bytes, params.charset);
    const replaced = replace(text);
    if (replaced !== text) {
      const eol = message.headers[0]?.raw.endsWith('\r\n') === false ? '\n' : '\r\n';
      const encoded = encoding === 'base64' ? b64.wrap(b64.encode(Buffer.from(replaced, 'utf8')), 76) : qp.wrap(qp.encode(Buffer.from(replaced, 'utf8')), 76);
      body = Buffer.from(encoded.replace(/\r?\n/g, eol) + eol, 'latin1');
      const rest = Object.entries(params).filter(([k]) => k !== 'charset');
      const newType = libmime.buildHeaderValue({ value: type, params: { ...Object.fromEntries(rest), charset: 'utf-8' } });
      headers = headers.filter((h) => h.name !== 'content-type' && h.name !== 'content-transfer-encoding');
      headers.push(
        { name: 'content-type', raw: `Content-Type: ${newType}${eol}` },
        { name: 'content-transfer-encoding', raw: `Content-Transfer-Encoding: ${encoding === 'base64' ? 'base64' : 'quoted-printable'}${eol}` },
      );
    }
  }
  if (!message.headers.length) return Buffer.from(replace(raw.toString('latin1')), 'latin1');
  return Buffer.concat([Buffer.from(headers.map((h) => h.raw).join(''), 'latin1'), separator, body]);
}

/** A header field with its encoded words decoded, rewritten, and encoded again when it changed. */
function rewriteField(field: HeaderField, replace: (text: string) => string): HeaderField {
  const plain = replace(field.raw);
  const colon = plain.indexOf(':');
  if (colon < 0) return { ...field, raw: plain };
  const value = unfold(plain.slice(colon + 1)).trim();
  if (!value.includes('=?')) return { ...field, raw: plain };
  const decoded = decodeWords(value);
  const replaced = replace(decoded);
  if (replaced === decoded) return { ...field, raw: plain };
  const eol = field.raw.endsWith('\r\n') ? '\r\n' : '\n';
  return { ...field, raw: `${plain.slice(0, colon)}: ${libmime.encodeWords(replaced, 'Q', 52)}${eol}` };
}

/** The parts between `--boundary` lines, each rewritten; preamble and epilogue only get the plain replacement. */
function rewriteMultipart(body: Buffer, boundary: string, replace: (text: string) => string, depth: number): Buffer {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const starts: number[] = [];
  for (let i = body.indexOf(delimiter); i >= 0; i = body.indexOf(delimiter, i + delimiter.length)) {
    if (i === 0 || body[i - 1] === 0x0a) starts.push(i);
  }
  if (!starts.length) return Buffer.from(replace(body.toString('latin1')), 'latin1');
  const out: Buffer[] = [Buffer.from(replace(body.subarray(0, starts[0]).toString('latin1')), 'latin1')];
  for (const [n, start] of starts.entries()) {
    const lineEnd = body.indexOf('\n', start);
    const partStart = lineEnd < 0 ? body.length : lineEnd + 1;
    out.push(body.subarray(start, partStart));
    const next = n + 1 < starts.length ? starts[n + 1] : body.length;
    const closing = body.subarray(start + delimiter.length, start + delimiter.length + 2).toString('latin1') === '--';
    if (closing) {
      out.push(Buffer.from(replace(body.subarray(partStart, next).toString('latin1')), 'latin1'));
      continue;
    }
    // The line ending before the next delimiter belongs to the delimiter.
    let partEnd = next;
    if (partEnd > partStart && body[partEnd - 1] === 0x0a) partEnd -= body[partEnd - 2] === 0x0d ? 2 : 1;
    out.push(rewriteEntity(body.subarray(partStart, partEnd), replace, depth), body.subarray(partEnd, next));
  }
  return Buffer.concat(out);
}

/** Quoted-printable to bytes, in one pass. */
function qpDecode(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    if (body[i + 1] === 0x0d && body[i + 2] === 0x0a) i += 2;
    else if (body[i + 1] === 0x0a) i += 1;
    else {
      const hex = body.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out[n++] = parseInt(hex, 16);
        i += 2;
      } else out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** Text in its declared charset (unknown ones are read byte for byte). */
function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(libmime.normalizeCharset(charset ?? 'us-ascii').toLowerCase() === 'us-ascii' ? 'utf-8' : libmime.normalizeCharset(charset)).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}
