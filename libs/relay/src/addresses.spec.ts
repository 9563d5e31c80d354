import { randomBytes } from 'node:crypto';
import { parseAddress, parseReplyLocal, relayKey, replyAlias, replyLocalPart, senderRegistered, srsDecode, srsEncode } from './addresses';

describe('relay addresses', () => {
  const key = relayKey(randomBytes(32));

  it('reply aliases are deterministic per (connection, sender), distinct otherwise, and parse back', () => {
    const a = replyAlias(key, 'c_1', 'News@Example.com');
    expect(a).toMatch(/^[a-z2-7]{26}$/);
    expect(replyAlias(key, 'c_1', 'news@example.com')).toBe(a);
    expect(replyAlias(key, 'c_2', 'news@example.com')).not.toBe(a);
    expect(replyAlias(relayKey(randomBytes(32)), 'c_1', 'news@example.com')).not.toBe(a);
    expect(parseReplyLocal(replyLocalPart(a))).toBe(a);
    expect(parseReplyLocal('x9s8d7')).toBeNull();
  });

  it('SRS addresses round-trip, refuse tampering and expire', () => {
    const now = Date.UTC(2026, 0, 10);
    const srs = srsEncode(key, parseAddress('Bounce+123@Mail.Example.com'), 'loginsign.com', now);
    const local = srs.slice(0, srs.lastIndexOf('@'));
    expect(srs.endsWith('@loginsign.com')).toBe(true);
    expect(srsDecode(key, local, now + 86_400_000)).toBe('bounce+123@mail.example.com');
    expect(srsDecode(key, local.replace('mail.example.com', 'evil.example'), now)).toBeNull();
    expect(srsDecode(relayKey(randomBytes(32)), local, now)).toBeNull();
    expect(srsDecode(key, local, now + 40 * 86_400_000)).toBeNull();
  });

  it('matches registered senders by exact address or exact domain', () => {
    expect(senderRegistered(parseAddress('a@mail.example.com'), ['mail.example.com'], [])).toBe(true);
    expect(senderRegistered(parseAddress('a@sub.mail.example.com'), ['mail.example.com'], [])).toBe(false);
    expect(senderRegistered(parseAddress('News@Other.org'), [], ['news@other.org'])).toBe(true);
    expect(senderRegistered(parseAddress(''), ['x.org'], [])).toBe(false);
  });
});
