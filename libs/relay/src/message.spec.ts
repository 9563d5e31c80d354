import { formatMailbox, headerValue, parseMailbox, parseMailboxes, rewriteForForward, rewriteForReply, splitMessage } from './message';

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
    const out = rewriteForForward(raw, {
      from: 'r-abc@loginsign.com',
      to: 'x9s8d7@loginsign.com',
      displayName: 'News Team',
      originalFrom: 'news@app.example',
      messageId: 'rm_1',
      applicationId: 'app_1',
    });
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

  it('parses a 100 KB header field in linear time', () => {
    const huge = Buffer.from(`From: ${'a'.repeat(100_000)}\r\nTo: ${'<'.repeat(50_000)}\r\nSubject: x\r\n\r\nbody\r\n`);
    const started = process.hrtime.bigint();
    const m = splitMessage(huge);
    parseMailbox(headerValue(m, 'from'));
    parseMailbox(headerValue(m, 'to'));
    rewriteForForward(huge, { from: 'r-abc@loginsign.com', to: 'x9s8d7@loginsign.com', displayName: 'x', originalFrom: 'a@b', messageId: 'rm_1', applicationId: 'app_1' });
    // Quadratic parsing of these fields takes seconds; linear takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });

  it('forward: one From mailbox with a quoted or encoded name; To rebuilt, Cc and every other reply path dropped', () => {
    const input = Buffer.from(
      [
        'From: =?utf-8?Q?Evil=2C_<attacker@evil.example>?= <news@app.example>',
        'To: x9s8d7@loginsign.com, other@elsewhere.example',
        'Cc: cc@elsewhere.example',
        'Mail-Followup-To: f@elsewhere.example',
        'Mail-Reply-To: r@elsewhere.example',
        'Sender: s@elsewhere.example',
        'Subject: hi',
        '',
        'body',
        '',
      ].join('\r\n'),
    );
    const out = rewriteForForward(input, {
      from: 'r-abc@loginsign.com',
      to: 'x9s8d7@loginsign.com',
      displayName: 'Evil, <attacker@evil.example>',
      originalFrom: 'news@app.example',
      messageId: 'rm_1',
      applicationId: 'app_1',
    });
    const m = splitMessage(out);
    const from = headerValue(m, 'from')!;
    expect(from).toBe('"Evil, <attacker@evil.example>" <r-abc@loginsign.com>');
    expect(parseMailboxes(from)).toEqual([{ name: 'Evil, <attacker@evil.example>', address: 'r-abc@loginsign.com' }]);
    expect(headerValue(m, 'to')).toBe('x9s8d7@loginsign.com');
    for (const name of ['cc', 'mail-followup-to', 'mail-reply-to', 'sender', 'reply-to']) expect(headerValue(m, name)).toBeNull();
    expect(out.toString()).not.toContain('elsewhere.example');
    const unicode = formatMailbox('Zoë, "Chef"', 'r-abc@loginsign.com');
    expect(unicode).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <r-abc@loginsign\.com>$/i);
    expect(parseMailboxes(unicode)).toEqual([{ name: 'Zoë, "Chef"', address: 'r-abc@loginsign.com' }]);
  });

  it('reply: base64, quoted-printable and encoded-word parts are decoded, rewritten and re-encoded', () => {
    const real = 'jane@real.example';
    const b64 = Buffer.from(`Hi, write to ${real} or JANE@REAL.EXAMPLE\r\n`).toString('base64');
    const reply = Buffer.from(
      [
        'From: Jane <jane@real.example>',
        'To: r-abc@loginsign.com',
        `Subject: =?utf-8?B?${Buffer.from(`Re: from ${real}`).toString('base64')}?=`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/alternative; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64,
        '--b1',
        'Content-Type: text/html; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<p>Caf=E9 jane@real=',
        '.example</p>',
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const out = rewriteForReply(reply, { from: 'x9s8d7@loginsign.com', to: 'news@app.example', messageId: 'rm_2', relayDomain: 'loginsign.com', hide: [real] });
    expect(out.toString().toLowerCase()).not.toContain('real.example');
    const parts = out.toString().split('--b1');
    expect(parts).toHaveLength(4);
    const decoded = (part: string) => {
      const m = splitMessage(Buffer.from(part.replace(/^\r\n/, '')));
      const body = m.rest.toString().trim();
      return headerValue(m, 'content-transfer-encoding') === 'base64'
        ? Buffer.from(body, 'base64').toString()
        : body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    };
    expect(decoded(parts[1]).trim()).toBe('Hi, write to x9s8d7@loginsign.com or x9s8d7@loginsign.com');
    expect(Buffer.from(decoded(parts[2]), 'latin1').toString('utf8')).toBe('<p>Café x9s8d7@loginsign.com</p>');
    const subject = headerValue(splitMessage(out), 'subject')!;
    expect(subject).not.toContain(Buffer.from(`Re: from ${real}`).toString('base64'));
  });
});
