import { headerValue, parseMailbox, rewriteForForward, rewriteForReply, splitMessage } from './message';

const raw = Buffer.from(
  [
    'From: "News Team" <news@app.example>',
    'Reply-To: support@app.example',
    'To: x9s8d7@loginsign.com',
    'Subject: Hello',
    ' there',
    'DKIM-Signature: v=1; a=rsa-sha256;',
    '\tb=abc',
    'X-LoginSign-Relay: spoofed',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Body line é',
    '',
  ].join('\r\n'),
  'utf8',
);

describe('relay message rewriting', () => {
  it('splits folded headers and reads values', () => {
    const m = splitMessage(raw);
    expect(m.headers.map((h) => h.name)).toEqual(['from', 'reply-to', 'to', 'subject', 'dkim-signature', 'x-loginsign-relay', 'content-type']);
    expect(headerValue(m, 'subject')).toBe('Hello there');
    expect(parseMailbox(headerValue(m, 'from'))).toEqual({ name: 'News Team', address: 'news@app.example' });
    expect(parseMailbox('plain@x.org')).toEqual({ name: '', address: 'plain@x.org' });
  });

  it('forward: replaces From, drops signatures and spoofed relay headers, keeps the body bytes', () => {
    const out = rewriteForForward(raw, { from: 'r-abc@loginsign.com', displayName: 'News Team', originalFrom: 'news@app.example', messageId: 'rm_1', applicationId: 'app_1' });
    const m = splitMessage(out);
    expect(headerValue(m, 'from')).toBe('"News Team" <r-abc@loginsign.com>');
    expect(headerValue(m, 'x-loginsign-relay')).toBe('forwarded; id=rm_1; application=app_1');
    expect(m.headers.filter((h) => h.name === 'x-loginsign-relay')).toHaveLength(1);
    expect(headerValue(m, 'dkim-signature')).toBeNull();
    expect(headerValue(m, 'reply-to')).toBeNull();
    expect(headerValue(m, 'subject')).toBe('Hello there');
    expect(out.subarray(out.length - m.rest.length).equals(raw.subarray(raw.length - m.rest.length))).toBe(true);
    expect(out.toString('utf8')).toContain('Body line é');
  });

  it('reply: from the relay address to the sender, and the real address appears nowhere', () => {
    const reply = Buffer.from(
      [
        'From: Jane Doe <Jane@Real.example>',
        'To: r-abc@loginsign.com',
        'Cc: jane@real.example',
        'Message-ID: <1@real.example>',
        'Received: from real.example',
        'Subject: Re: Hello',
        '',
        'Thanks! -- jane@real.example',
        '',
      ].join('\r\n'),
    );
    const out = rewriteForReply(reply, { from: 'x9s8d7@loginsign.com', to: 'news@app.example', messageId: 'rm_2', relayDomain: 'loginsign.com', hide: ['jane@real.example'] });
    const text = out.toString();
    expect(text.toLowerCase()).not.toContain('jane@real.example');
    expect(text).not.toContain('real.example');
    const m = splitMessage(out);
    expect(headerValue(m, 'from')).toBe('x9s8d7@loginsign.com');
    expect(headerValue(m, 'to')).toBe('news@app.example');
    expect(headerValue(m, 'subject')).toBe('Re: Hello');
  });
});
