import { expect } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as dnsPromises } from 'node:dns';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { createTransport, SendMailOptions } from 'nodemailer';
import { simpleParser } from 'mailparser';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { startWorker, WorkerProcess } from '../support/worker';
import { RelayProcess, Sink, SinkMessage, startRelay, startSink } from '../support/relay';
import { createClientApp, ClientApp } from '../support/oauth';
import { seedConnections } from '../support/seed';
import { Row } from '../support/db';
import { eventually } from '../support/eventually';
import { publishSender, registerSenders, startDns, TestDns } from '../support/dns';

const DOMAIN = 'loginsign.com';

interface TestUser {
  connectionId: string;
  relay: string;
  email: string;
}

/** The private email relay end to end: relay and worker processes, MySQL, Redis and a local SMTP sink. */
describe('email relay', () => {
  let t: TestApp;
  let sink: Sink;
  let worker: WorkerProcess;
  let relay: RelayProcess;
  let db: DataSource;
  let app: ClientApp;
  let users: TestUser[];
  let dns: TestDns;
  const dkim = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    sink = await startSink();
    dns = await startDns();
    for (const domain of ['app.example', 'other.example', 'real.example']) publishSender(dns, domain);
    t = await startApi({
      SMTP_URL: sink.url,
      RELAY_BACKOFF_MS: '300',
      OUTBOX_RELAY_INTERVAL_MS: '100',
      WORKER_LOCK_MS: '2000',
      RELAY_MAX_BYTES: '200000',
      RELAY_REPLIES_PER_USER_PER_HOUR: '3',
      DNS_SERVERS: dns.server,
    });
    db = t.app.get(DataSource);
    app = await createClientApp(t.baseUrl);
    await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example'], senderAddresses: ['news@other.example'] });
    const ids = await seedConnections(db, app.id, 10);
    users = [];
    for (const id of ids) {
      const [row] = await db.query<{ user_id: number; relay_local: string }[]>('SELECT user_id, relay_local FROM connections WHERE id = ?', [id]);
      const email = `user-${randomBytes(4).toString('hex')}@real.example`;
      await db.query('INSERT INTO user_emails (user_id, email, linked, is_primary, confirmed_at) VALUES (?, ?, 1, 1, UTC_TIMESTAMP(3))', [row.user_id, email]);
      users.push({ connectionId: id, relay: `${row.relay_local}@${DOMAIN}`, email });
    }
    const RELAY_DKIM_KEY = dkim.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    dns.txt(`loginsign._domainkey.${DOMAIN}`, [`v=DKIM1; k=rsa; p=${dkim.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`]);
    [worker, relay] = await Promise.all([startWorker({ ...t.env, RELAY_DKIM_KEY }), startRelay({ ...t.env, RELAY_DKIM_KEY })]);
  });
  afterAll(async () => {
    await relay?.stop();
    await worker?.stop();
    await sink?.close();
    await dns?.close();
    await t?.close();
  });

  async function portal(method: string, path: string, body?: unknown) {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { cookie: app.developerCookie, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.text() };
  }

  async function send(mail: SendMailOptions) {
    const transport = createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true });
    try {
      return await transport.sendMail({ text: 'hello', ...mail });
    } finally {
      transport.close();
    }
  }

  async function refused(mail: SendMailOptions): Promise<{ responseCode: number; response: string }> {
    const error = await send(mail).then(
      () => null,
      (e: { responseCode: number; response?: string; message: string }) => e,
    );
    if (!error) throw new Error('expected the relay to refuse the message');
    return { responseCode: error.responseCode, response: String(error.response ?? error.message) };
  }

  const tag = () => `t-${randomBytes(6).toString('hex')}`;
  const bySubject = (subject: string) => (m: SinkMessage) => m.raw.toString('latin1').includes(subject);

  it('forwards to the user with subject, body, headers and attachments intact, From = relay form of the sender', async () => {
    const [user] = users;
    const subject = tag();
    const attachment = randomBytes(4096);
    await send({
      from: '"News Team" <news@app.example>',
      to: user.relay,
      subject,
      text: 'Plain body ünïcode',
      html: '<p>HTML body</p>',
      headers: { 'X-Custom-Header': 'kept', 'X-LoginSign-Relay': 'spoofed' },
      attachments: [{ filename: 'data.bin', content: attachment, contentType: 'application/octet-stream' }],
    });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const message = sink.received.find(bySubject(subject))!;
    expect(message.to).toEqual([user.email]);
    expect(message.from).toMatch(new RegExp(`^srs0=[a-z2-7]{8}=[a-z2-7]{2}=app\\.example=news@${DOMAIN.replace('.', '\\.')}$`));
    const parsed = await simpleParser(message.raw);
    expect(parsed.subject).toBe(subject);
    expect(parsed.text?.trim()).toBe('Plain body ünïcode');
    expect(parsed.html).toContain('<p>HTML body</p>');
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0].filename).toBe('data.bin');
    expect(Buffer.compare(parsed.attachments[0].content, attachment)).toBe(0);
    expect(parsed.headers.get('x-custom-header')).toBe('kept');
    expect(parsed.from!.value[0].name).toBe('News Team');
    expect(parsed.from!.value[0].address).toMatch(new RegExp(`^r-[a-z2-7]{26}@${DOMAIN}$`));
    expect(parsed.headers.get('x-loginsign-relay')).toMatch(/^forwarded; id=rm_[a-z0-9]{20}; application=/);
    expect(parsed.headers.get('x-loginsign-relay-original-from')).toBe('news@app.example');
    expect(message.raw.toString()).not.toContain('spoofed');
    // Delivered: the row stays as the log, without the message.
    // The sink may have the message before the worker records the outcome.
    let row: Row | undefined;
    await eventually(async () => {
      [row] = await db.query<Row[]>("SELECT status, raw, kind FROM relay_messages WHERE connection_id = ? AND status = 'delivered' LIMIT 1", [user.connectionId]);
      return row !== undefined;
    }, 'the delivered row');
    expect(row).toEqual({ status: 'delivered', raw: null, kind: 'forward' });
  });

  it('sends the user’s reply on to the original sender from the relay address; the real address appears nowhere', async () => {
    const user = users[1];
    const subject = tag();
    await send({ from: 'news@other.example', to: user.relay, subject });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const forwarded = await simpleParser(sink.received.find(bySubject(subject))!.raw);
    const alias = forwarded.from!.value[0].address!;

    const replySubject = `Re: ${subject} ${tag()}`;
    await send({
      from: `"Jane Real" <${user.email}>`,
      to: alias,
      cc: user.email,
      replyTo: user.email,
      subject: replySubject,
      text: `Thanks!\n--\nJane, ${user.email.toUpperCase()}`,
      inReplyTo: forwarded.messageId,
    });
    await sink.waitFor((r) => r.some(bySubject(replySubject)));
    const reply = sink.received.find(bySubject(replySubject))!;
    expect(reply.to).toEqual(['news@other.example']);
    expect(reply.from).toBe(user.relay);
    const raw = reply.raw.toString('latin1').toLowerCase();
    expect(raw).not.toContain(user.email);
    expect(raw).not.toContain('real.example');
    expect(raw).not.toContain('jane real');
    const parsed = await simpleParser(reply.raw);
    expect(parsed.from!.value[0].address).toBe(user.relay);
    expect((parsed.to as { value: { address: string }[] }).value[0].address).toBe('news@other.example');
    expect(parsed.headers.get('x-loginsign-relay')).toMatch(/^reply; /);
    expect(parsed.inReplyTo).toBe(forwarded.messageId);
  });

  it('refuses a reply through an alias from anyone but the user', async () => {
    const user = users[1];
    const [{ alias }] = await db.query<{ alias: string }[]>('SELECT alias FROM relay_reply_aliases WHERE connection_id = ? LIMIT 1', [user.connectionId]);
    const r = await refused({ from: 'news@app.example', to: `r-${alias}@${DOMAIN}`, subject: tag() });
    expect(r.responseCode).toBe(550);
    expect(r.response).toContain('5.7.1');
  });

  /** Mails `user` from a registered sender and answers the alias their copy shows in From. */
  async function aliasFor(user: TestUser, mail: SendMailOptions = {}): Promise<string> {
    const subject = tag();
    await send({ from: 'news@app.example', to: user.relay, subject, ...mail });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    return (await simpleParser(sink.received.find(bySubject(subject))!.raw)).from!.value[0].address!;
  }

  it('binds a reply alias to the envelope sender: Reply-To and From name nobody a reply reaches', async () => {
    const user = users[8];
    const target = `target-${randomBytes(3).toString('hex')}@anywhere.example`;
    const alias = await aliasFor(user, { from: '"News" <news@app.example>', replyTo: target, headers: { 'Mail-Reply-To': target } });
    const replySubject = `Re: ${tag()}`;
    await send({ from: user.email, to: alias, subject: replySubject, text: 'to whom?' });
    await sink.waitFor((r) => r.some(bySubject(replySubject)));
    const reply = sink.received.find(bySubject(replySubject))!;
    expect(reply.to).toEqual(['news@app.example']);
    expect(sink.received.some((m) => m.to.includes(target))).toBe(false);
    const [stored] = await db.query<{ sender: string }[]>('SELECT sender FROM relay_reply_aliases WHERE alias = ?', [alias.slice(2, 28)]);
    expect(stored.sender).toBe('news@app.example');
  });

  it('accepts a reply only from a confirmed address of the user', async () => {
    const user = users[9];
    const alias = await aliasFor(user);
    const [{ user_id }] = await db.query<{ user_id: number }[]>('SELECT user_id FROM connections WHERE id = ?', [user.connectionId]);
    const unconfirmed = `linked-${randomBytes(3).toString('hex')}@real.example`;
    await db.query('INSERT INTO user_emails (user_id, email, linked, is_primary) VALUES (?, ?, 1, 0)', [user_id, unconfirmed]);
    const r = await refused({ from: unconfirmed, to: alias, subject: tag() });
    expect(r.responseCode).toBe(550);
    expect(r.response).toContain('5.7.1');
    const [{ n }] = await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM relay_messages WHERE kind = 'reply' AND mail_from = ?", [unconfirmed]);
    expect(Number(n)).toBe(0);
  });

  it('limits replies per user (RELAY_REPLIES_PER_USER_PER_HOUR), whichever alias they use', async () => {
    const user = users[9];
    const first = await aliasFor(user);
    const second = await aliasFor(user, { from: 'news@other.example', envelope: { from: 'news@other.example', to: [user.relay] } });
    expect(second).not.toBe(first);
    const subjects = [tag(), tag(), tag()];
    for (const [i, subject] of subjects.entries()) await send({ from: user.email, to: i % 2 ? second : first, subject });
    const over = await refused({ from: user.email, to: second, subject: tag() });
    expect(over.responseCode).toBe(451);
    expect(over.response).toContain('4.7.1');
    // Someone else using the user's address (SPF fails) learns nothing from the limit: the uniform refusal.
    dns.txt('real.example', ['v=spf1 ip4:192.0.2.1 -all']);
    try {
      const spoofed = await refused({ from: user.email, to: second, subject: tag() });
      expect(spoofed.responseCode).toBe(550);
      expect(spoofed.response).toContain('5.7.1 Sender not registered or not authenticated');
    } finally {
      publishSender(dns, 'real.example');
    }
    await sink.waitFor((r) => subjects.every((s) => r.some(bySubject(s))));
  });

  it('refuses a header section over 64 KiB with 552 5.3.4; a 60 KB From field is forwarded, and so is the next message', async () => {
    const user = users[0];
    const big = (n: number, subject: string) => Buffer.from(`From: "${'a'.repeat(n)}" <news@app.example>\r\nTo: ${user.relay}\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
    const over = await refused({ envelope: { from: 'news@app.example', to: [user.relay] }, raw: big(100_000, tag()) });
    expect(over.responseCode).toBe(552);
    expect(over.response).toContain('5.3.4');
    const within = tag();
    await send({ envelope: { from: 'news@app.example', to: [user.relay] }, raw: big(60_000, within) });
    const next = tag();
    await send({ from: 'news@app.example', to: user.relay, subject: next });
    await sink.waitFor((r) => r.some(bySubject(within)) && r.some(bySubject(next)));
    const forwarded = await simpleParser(sink.received.find(bySubject(within))!.raw);
    expect(forwarded.from!.value).toHaveLength(1);
    expect(forwarded.from!.value[0].address).toMatch(new RegExp(`^r-[a-z2-7]{26}@${DOMAIN}$`));
  });

  it('delivers a recipient listed twice in one transaction once, and stores the message once', async () => {
    const subject = tag();
    const info = await send({
      from: 'news@app.example',
      envelope: { from: 'news@app.example', to: [users[0].relay, users[0].relay.toUpperCase(), users[1].relay] },
      subject,
    });
    expect(info.accepted).toHaveLength(3);
    await sink.waitFor((r) => r.filter(bySubject(subject)).length >= 2);
    const rows = await db.query<{ body_id: string; rcpt_to: string }[]>(
      "SELECT body_id, rcpt_to FROM relay_messages WHERE rcpt_to IN (?, ?) AND created_at > UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE AND kind = 'forward' ORDER BY created_at DESC LIMIT 2",
      [users[0].relay, users[1].relay],
    );
    expect(rows.map((r) => r.rcpt_to).sort()).toEqual([users[0].relay, users[1].relay].sort());
    expect(rows[0].body_id).toBe(rows[1].body_id);
    // Both delivered: the shared body is gone with the last of them.
    const deadline = Date.now() + 10_000;
    let left = 1;
    while (left && Date.now() < deadline) {
      [{ left }] = await db.query<{ left: number }[]>('SELECT COUNT(*) AS `left` FROM relay_message_bodies WHERE id = ?', [rows[0].body_id]);
      left = Number(left);
      if (left) await new Promise((r) => setTimeout(r, 100));
    }
    expect(left).toBe(0);
    expect(
      sink.received
        .filter(bySubject(subject))
        .map((m) => m.to[0])
        .sort(),
    ).toEqual([users[0].email, users[1].email].sort());
  });

  it('forwards with Cc and other To addresses dropped and an encoded-word name as one From mailbox', async () => {
    const user = users[2];
    const subject = tag();
    await send({
      from: { name: 'Évil, <attacker@evil.example>', address: 'news@app.example' },
      to: [user.relay, 'other@elsewhere.example'],
      cc: 'cc@elsewhere.example',
      envelope: { from: 'news@app.example', to: [user.relay] },
      headers: { 'Mail-Followup-To': 'f@elsewhere.example' },
      subject,
    });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const raw = sink.received.find(bySubject(subject))!.raw;
    expect(raw.toString('latin1')).not.toContain('elsewhere.example');
    const parsed = await simpleParser(raw);
    expect(parsed.from!.value).toHaveLength(1);
    expect(parsed.from!.value[0].name).toBe('Évil, <attacker@evil.example>');
    expect(parsed.from!.value[0].address).toMatch(new RegExp(`^r-[a-z2-7]{26}@${DOMAIN}$`));
    expect(parsed.cc).toBeUndefined();
    expect((parsed.to as { value: { address: string }[] }).value.map((v) => v.address)).toEqual([user.relay]);
  });

  it('rewrites base64, quoted-printable and encoded-word replies: the real address reaches the sender in no part', async () => {
    const user = users[1];
    const alias = await aliasFor(user);
    const subject = `Re: ${tag()}`;
    const marker = tag();
    await send({
      from: user.email,
      to: alias,
      subject: `${subject} ${user.email} ünï`,
      text: `Base64 part ünïcode, from ${user.email}`,
      html: `<p>QP part, from ${user.email.toUpperCase()}</p>`,
      textEncoding: 'base64',
      alternatives: [{ contentType: 'text/calendar; charset=utf-8', content: `ORGANIZER:mailto:${user.email}\r\n`, contentTransferEncoding: 'quoted-printable' }],
      attachments: [{ filename: 'note.txt', content: `note ${user.email}` }],
      headers: { 'X-Test-Marker': marker },
    });
    await sink.waitFor((r) => r.some((m) => m.raw.toString('latin1').includes(marker)));
    const m = sink.received.find((r) => r.raw.toString('latin1').includes(marker))!;
    const parsed = await simpleParser(m.raw);
    expect(m.to).toEqual(['news@app.example']);
    expect(m.from).toBe(user.relay);
    const everything = [parsed.subject, parsed.text, parsed.html, ...parsed.attachments.map((a) => a.content.toString())].join('\n').toLowerCase();
    expect(everything).not.toContain(user.email);
    expect(m.raw.toString('latin1').toLowerCase()).not.toContain('real.example');
    expect(parsed.subject).toBe(`${subject} ${user.relay} ünï`);
    expect(parsed.text?.trim()).toBe(`Base64 part ünïcode, from ${user.relay}`);
    expect(parsed.html).toContain(`QP part, from ${user.relay}`);
    expect(parsed.attachments.map((a) => a.content.toString())).toContain(`note ${user.relay}`);
  });

  it('answers 450 4.2.1 while the user’s primary address is unconfirmed, and forwards once it is confirmed', async () => {
    const [id] = await seedConnections(db, app.id, 1);
    const [row] = await db.query<{ user_id: number; relay_local: string }[]>('SELECT user_id, relay_local FROM connections WHERE id = ?', [id]);
    const email = `late-${randomBytes(4).toString('hex')}@real.example`;
    await db.query('INSERT INTO user_emails (user_id, email, linked, is_primary) VALUES (?, ?, 1, 1)', [row.user_id, email]);
    const relayAddress = `${row.relay_local}@${DOMAIN}`;
    const r = await refused({ from: 'news@app.example', to: relayAddress, subject: tag() });
    expect(r.responseCode).toBe(450);
    expect(r.response).toContain('4.2.1');
    // Nothing stored; the refusal is in the application's relay log (written after the answer).
    let logged: { status: string; last_error: string }[] = [];
    await eventually(async () => {
      logged = await db.query<{ status: string; last_error: string }[]>('SELECT status, last_error FROM relay_messages WHERE connection_id = ?', [id]);
      return logged.length > 0;
    }, 'the refusal in the relay log');
    expect(logged).toEqual([{ status: 'refused', last_error: expect.stringContaining('450 4.2.1') as unknown }]);
    await db.query('UPDATE user_emails SET confirmed_at = UTC_TIMESTAMP(3) WHERE email = ?', [email]);
    const subject = tag();
    await send({ from: 'news@app.example', to: relayAddress, subject });
    await sink.waitFor((rs) => rs.some(bySubject(subject)));
    expect(sink.received.find(bySubject(subject))!.to).toEqual([email]);
  });

  /** The SMTP command a refusal came at, with its code and text. */
  async function refusedAt(mail: SendMailOptions, options: { localAddress?: string } = {}) {
    const transport = createTransport({ host: '127.0.0.1', port: relay.port, secure: false, ignoreTLS: true, ...options });
    try {
      const error = await transport.sendMail({ text: 'hello', ...mail }).then(
        () => null,
        (e: { responseCode: number; response?: string; command?: string; message: string }) => e,
      );
      if (!error) throw new Error('expected the relay to refuse the message');
      return { command: error.command, responseCode: error.responseCode, response: String(error.response ?? error.message) };
    } finally {
      transport.close();
    }
  }

  it('SPF: a registered sender domain whose SPF fails gets the same RCPT answer for every address and 550 5.7.1 after DATA', async () => {
    await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example', 'spf-fail.example'], senderAddresses: ['news@other.example'] });
    dns.txt('spf-fail.example', ['v=spf1 ip4:192.0.2.1 -all']);
    const unknown = `zz${randomBytes(2).toString('hex')}@${DOMAIN}`;
    for (const to of [users[0].relay, unknown, `r-${'a'.repeat(26)}@${DOMAIN}`]) {
      const r = await refusedAt({ from: 'news@spf-fail.example', to, subject: tag() });
      expect(r).toMatchObject({ command: 'DATA', responseCode: 550 });
      expect(r.response).toContain('5.7.1 Sender not registered or not authenticated');
    }
    // The same domain passes once its SPF names the client.
    dns.txt('spf-fail.example', ['v=spf1 ip4:127.0.0.0/8 -all']);
    const subject = tag();
    await send({ from: 'news@spf-fail.example', to: users[0].relay, subject });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const forwarded = await simpleParser(sink.received.find(bySubject(subject))!.raw);
    expect(forwarded.headers.get('authentication-results') as string).toMatch(/spf=pass/);
  });

  it('DMARC: a From domain publishing p=reject without an aligned SPF or DKIM pass is refused 550 5.7.1', async () => {
    await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example', 'brand.example'], senderAddresses: ['news@other.example'] });
    dns.txt('_dmarc.brand.example', ['v=DMARC1; p=reject']);
    const r = await refusedAt({ from: 'ceo@brand.example', envelope: { from: 'news@app.example', to: [users[0].relay] }, subject: tag() });
    expect(r).toMatchObject({ command: 'DATA', responseCode: 550 });
    expect(r.response).toContain('5.7.1');
    // Two mailboxes in From: refused too.
    const two = await refusedAt({
      envelope: { from: 'news@app.example', to: [users[0].relay] },
      raw: `From: news@app.example, ceo@brand.example\r\nTo: ${users[0].relay}\r\nSubject: ${tag()}\r\n\r\nhello\r\n`,
    });
    expect(two).toMatchObject({ command: 'DATA', responseCode: 550 });
  });

  it('DKIM: a DKIM-signed message from a domain without SPF for the client passes DMARC by DKIM and is forwarded', async () => {
    await registerSenders(t.baseUrl, app.developerCookie, app.id, dns, { senderDomains: ['app.example', 'signed.example'], senderAddresses: ['news@other.example'] });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    dns.txt('sel._domainkey.signed.example', [`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`]);
    dns.txt('_dmarc.signed.example', ['v=DMARC1; p=reject']);
    const subject = tag();
    const transport = createTransport({
      host: '127.0.0.1',
      port: relay.port,
      secure: false,
      ignoreTLS: true,
      dkim: { domainName: 'signed.example', keySelector: 'sel', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    });
    try {
      await transport.sendMail({ from: 'news@signed.example', envelope: { from: 'bounce@app.example', to: [users[0].relay] }, to: users[0].relay, subject, text: 'signed' });
    } finally {
      transport.close();
    }
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const forwarded = await simpleParser(sink.received.find(bySubject(subject))!.raw);
    const results = forwarded.headers.get('authentication-results') as string;
    expect(results).toMatch(/dkim=pass/);
    expect(results).toMatch(/dmarc=pass/);
    // The same message with its signature broken is refused.
    const broken = await refusedAt({
      from: 'news@signed.example',
      envelope: { from: 'bounce@app.example', to: [users[0].relay] },
      to: users[0].relay,
      subject: tag(),
      headers: { 'DKIM-Signature': 'v=1; a=rsa-sha256; d=signed.example; s=sel; h=from; bh=AAAA; b=AAAA' },
    });
    expect(broken).toMatchObject({ command: 'DATA', responseCode: 550 });
  });

  it('shuts a client IP out with 421 4.7.0 after 20 RCPTs to unknown relay addresses', async () => {
    const localAddress = `127.0.${1 + (randomBytes(1)[0] % 200)}.${2 + (randomBytes(1)[0] % 200)}`;
    // 21 distinct unknown addresses (random, then numbered, so none repeats).
    const base = randomBytes(1).toString('hex');
    const unknown = Array.from({ length: 21 }, (_, i) => `zz${base}${String(i).padStart(2, '0')}@${DOMAIN}`);
    for (let i = 0; i < unknown.length; i += 7) {
      const r = await refusedAt({ from: 'news@app.example', to: unknown.slice(i, i + 7), subject: tag() }, { localAddress });
      expect(r.responseCode).toBe(550);
    }
    const shut = await refusedAt({ from: 'news@app.example', to: users[0].relay, subject: tag() }, { localAddress });
    expect(shut.responseCode).toBe(421);
    expect(shut.response).toContain('4.7.0');
    // Other clients are not affected.
    const subject = tag();
    await send({ from: 'news@app.example', to: users[0].relay, subject });
    await sink.waitFor((r) => r.some(bySubject(subject)));
  });

  it('DKIM-signs forwarded mail for RELAY_DOMAIN (selector loginsign) and prints the DNS record at start', async () => {
    const subject = tag();
    await send({ from: 'news@app.example', to: users[0].relay, subject });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const raw = sink.received.find(bySubject(subject))!.raw;
    const resolver = new dnsPromises.Resolver();
    resolver.setServers([dns.server]);
    const verified = await dkimVerify(raw, { resolver: (name: string, type: string) => resolver.resolve(name, type) });
    expect(verified.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([[DOMAIN, 'loginsign', 'pass']]);
    expect(relay.output()).toContain(`loginsign._domainkey.${DOMAIN}. TXT "v=DKIM1; k=rsa; p=`);
  });

  it('offers STARTTLS (a self-signed pair outside production) and relays over it', async () => {
    const subject = tag();
    const transport = createTransport({ host: '127.0.0.1', port: relay.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      const info = await transport.sendMail({ from: 'news@app.example', to: users[0].relay, subject, text: 'over TLS' });
      expect(info.accepted).toEqual([users[0].relay]);
    } finally {
      transport.close();
    }
    await sink.waitFor((r) => r.some(bySubject(subject)));
  });

  it('uses a sender domain only once its _loginsign TXT record is verified', async () => {
    publishSender(dns, 'late.example');
    const patched = await portal('PATCH', `/api/developer/applications/${app.id}`, { senderDomains: ['app.example', 'late.example'], senderAddresses: ['news@other.example'] });
    expect(patched.status).toBe(200);
    const verifications = (JSON.parse(patched.body) as { senderDomainVerifications: { domain: string; name: string; value: string; verified: boolean }[] })
      .senderDomainVerifications;
    const late = verifications.find((v) => v.domain === 'late.example')!;
    expect(late).toEqual({
      domain: 'late.example',
      name: '_loginsign.late.example',
      value: expect.stringMatching(/^loginsign-verification=[0-9a-f]{32}$/) as unknown,
      verified: false,
    });
    expect(verifications.find((v) => v.domain === 'app.example')!.verified).toBe(true);
    const before = await refusedAt({ from: 'news@late.example', to: users[0].relay, subject: tag() });
    expect(before).toMatchObject({ command: 'DATA', responseCode: 550 });
    const verify = (domain: string) => portal('POST', `/api/developer/applications/${app.id}/sender-domains/${domain}/verify`);
    const missing = await verify('late.example');
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('_loginsign.late.example') as unknown });
    dns.txt('_loginsign.late.example', ['loginsign-verification=0000000000000000000000000000000']);
    expect((await verify('late.example')).status).toBe(400);
    expect((await verify('not-listed.example')).status).toBe(404);
    dns.txt('_loginsign.late.example', ['v=spf1 -all', late.value]);
    const ok = await verify('LATE.example');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ domain: 'late.example', verified: true });
    const subject = tag();
    await send({ from: 'news@late.example', to: users[0].relay, subject });
    await sink.waitFor((r) => r.some(bySubject(subject)));
    const after = await portal('GET', `/api/developer/applications/${app.id}`);
    expect(
      (JSON.parse(after.body) as { senderDomainVerifications: { domain: string; verified: boolean }[] }).senderDomainVerifications.find((v) => v.domain === 'late.example')!
        .verified,
    ).toBe(true);
  });

  it('refuses with 550 5.7.1 when forwarding is off, and forwards again on the next message once it is on', async () => {
    const user = users[2];
    expect((await portal('PATCH', `/api/developer/applications/${app.id}/users/${user.connectionId}`, { isForwarding: false })).status).toBe(200);
    const r = await refused({ from: 'news@app.example', to: user.relay, subject: tag() });
    expect(r.responseCode).toBe(550);
    expect(r.response).toMatch(/5\.7\.1 .*forwarding/i);
    await portal('PATCH', `/api/developer/applications/${app.id}/users/${user.connectionId}`, { isForwarding: true });
    const subject = tag();
    await send({ from: 'news@app.example', to: user.relay, subject });
    await sink.waitFor((rs) => rs.some(bySubject(subject)));
  });

  it('accepts mail to a muted address and drops it (recorded, nothing delivered)', async () => {
    const user = users[3];
    await db.query('UPDATE connections SET email_muted = 1 WHERE id = ?', [user.connectionId]);
    const muted = tag();
    const info = await send({ from: 'news@app.example', to: user.relay, subject: muted });
    expect(info.accepted).toEqual([user.relay]);
    // A later message to another user arrives; the muted one never does.
    const later = tag();
    await send({ from: 'news@app.example', to: users[0].relay, subject: later });
    await sink.waitFor((r) => r.some(bySubject(later)));
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received.some(bySubject(muted))).toBe(false);
    const rows = await db.query<Row[]>('SELECT kind, status, raw FROM relay_messages WHERE connection_id = ?', [user.connectionId]);
    expect(rows).toEqual([{ kind: 'muted', status: 'dropped', raw: null }]);
  });

  it('refuses with 550 5.7.1 when the developer blocked the user', async () => {
    const user = users[4];
    expect((await portal('PATCH', `/api/developer/applications/${app.id}/users/${user.connectionId}`, { blocked: true })).status).toBe(200);
    const r = await refused({ from: 'news@app.example', to: user.relay, subject: tag() });
    expect(r.responseCode).toBe(550);
    expect(r.response).toMatch(/5\.7\.1 .*blocked/i);
  });

  it('refuses with 550 5.1.1 for a deleted connection and for an unknown address', async () => {
    const user = users[5];
    expect((await portal('DELETE', `/api/developer/applications/${app.id}/users/${user.connectionId}`)).status).toBe(204);
    const deleted = await refused({ from: 'news@app.example', to: user.relay, subject: tag() });
    expect(deleted.responseCode).toBe(550);
    expect(deleted.response).toContain('5.1.1');
    const unknown = await refused({ from: 'news@app.example', to: `zz${randomBytes(2).toString('hex')}@${DOMAIN}`, subject: tag() });
    expect(unknown.responseCode).toBe(550);
    expect(unknown.response).toContain('5.1.1');
  });

  it('never relays to another domain', async () => {
    const r = await refused({ from: 'news@app.example', to: 'someone@gmail.example', subject: tag() });
    expect(r.responseCode).toBe(550);
    expect(r.response).toMatch(/5\.7\.1 Relaying denied/i);
  });

  it('refuses senders the application did not register', async () => {
    for (const from of ['news@evil.example', 'other@other.example', 'news@sub.app.example']) {
      const r = await refused({ from, to: users[0].relay, subject: tag() });
      expect(r.responseCode).toBe(550);
      expect(r.response).toMatch(/5\.7\.1 Sender not registered/i);
    }
  });

  it('refuses a message over RELAY_MAX_BYTES', async () => {
    const r = await refused({ from: 'news@app.example', to: users[0].relay, subject: tag(), text: 'x'.repeat(300_000) });
    expect(r.responseCode).toBe(552);
  });

  it('keeps accepted mail while the next server is down and delivers it when it returns', async () => {
    const port = sink.port;
    const before = sink.received;
    await sink.close();
    const subject = tag();
    await send({ from: 'news@app.example', to: users[6].relay, subject });
    await new Promise((r) => setTimeout(r, 1500));
    const [waiting] = await db.query<Row[]>(
      'SELECT status, attempts, (SELECT COUNT(*) FROM relay_message_bodies b WHERE b.id = m.body_id) AS stored FROM relay_messages m WHERE connection_id = ?',
      [users[6].connectionId],
    );
    expect(waiting.status).toBe('queued');
    expect(Number(waiting.stored)).toBe(1);
    expect(waiting.attempts).toBeGreaterThanOrEqual(1);
    sink = await startSink(port);
    await sink.waitFor((r) => r.some(bySubject(subject)), 30_000);
    expect(before.some(bySubject(subject))).toBe(false);
    let done: Row | undefined;
    await eventually(async () => {
      [done] = await db.query<Row[]>('SELECT status, raw FROM relay_messages WHERE connection_id = ?', [users[6].connectionId]);
      return done?.status !== 'queued';
    }, 'the outcome recorded');
    expect(done).toEqual({ status: 'delivered', raw: null });
  });

  it('records a permanent 5xx from the user’s server and does not retry it', async () => {
    const user = users[7];
    sink.reject.add(user.email);
    await send({ from: 'news@app.example', to: user.relay, subject: tag() });
    const deadline = Date.now() + 15_000;
    let row: { status: string; attempts: number; last_error: string; raw: Buffer | null } | undefined;
    while (Date.now() < deadline) {
      [row] = await db.query<NonNullable<typeof row>[]>('SELECT status, attempts, last_error, raw FROM relay_messages WHERE connection_id = ?', [user.connectionId]);
      if (row?.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toEqual(expect.objectContaining({ status: 'failed', attempts: 1, raw: null }));
    expect(row!.last_error).toContain('550');
    await new Promise((r) => setTimeout(r, 1000));
    const [again] = await db.query<Row[]>('SELECT attempts FROM relay_messages WHERE connection_id = ?', [user.connectionId]);
    expect(again.attempts).toBe(1);
  });

  it('shows the application its sender domains and relay log in the portal: forwarded, dropped, refused with the reason, bounced', async () => {
    const page = await portal('GET', `/developer/apps/${app.id}/relay`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('_loginsign.app.example');
    expect(page.body).toContain('id="relay-log"');
    for (const outcome of ['forwarded', 'dropped (muted)', 'refused', 'bounced']) expect(page.body).toContain(outcome);
    expect(page.body).toContain('forwarding off');
    expect(page.body).toContain(users[7].relay);
    // Another developer's session does not see it.
    const other = await createClientApp(t.baseUrl);
    const res = await fetch(`${t.baseUrl}/developer/apps/${app.id}/relay`, { headers: { cookie: other.developerCookie } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(users[7].relay);
  });
});
