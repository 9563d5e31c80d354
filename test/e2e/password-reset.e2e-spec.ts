import { request as httpRequest } from 'node:http';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS, sha256Hex } from '@app/common';
import { MailerService } from '@app/identity';
import { loginUser, signUpUser, TestUser, uniqueEmail } from '../support/accounts';
import { createApplication, signUpDeveloper } from '../support/developer';
import { CookieJar, getPage, inputValue, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, connectWithRefresh, currentUser } from '../support/oauth';
import { Row } from '../support/db';

const REDIRECT_URI = 'https://client.example/cb';
const NEW_PASSWORD = 'a brand new passphrase';

/** A JSON POST from a chosen loopback source address (each test its own "client IP"). */
function postFrom(
  baseUrl: string,
  sourceIp: string,
  path: string,
  body: unknown,
  contentType = 'application/json',
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const url = new URL(path, baseUrl);
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: sourceIp,
        headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The contract's error shape: `{error, error_description}` and nothing else. */
function expectError(text: string, error: string, description: RegExp = /\w/): void {
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(body.error_description).toMatch(description);
}

let ipCounter = 10;
/** A fresh loopback address per test, so the per-IP window of one test never touches another. */
const freshIp = () => `127.0.0.${ipCounter++}`;

describe('Forgotten password (users and developers)', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);
  const redis = () => t.app.get<Redis>(REDIS);
  const mailer = () => t.app.get(MailerService);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  const mailsTo = async (to: string) => (await mailer().devMailbox()).filter((m) => m.to === to);

  /** Waits (bounded) until `count` mails to `to` have `subject`; returns them newest first. */
  async function waitForMails(to: string, subject: RegExp, count = 1) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const mails = (await mailsTo(to)).filter((m) => subject.test(m.subject));
      if (mails.length >= count) return mails;
      if (Date.now() > deadline) throw new Error(`expected ${count} mail(s) "${String(subject)}" to ${to}, got ${mails.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const tokenOf = (text: string, path = '/password/reset') => {
    const match = new RegExp(`${path.replace(/\//g, '\\/')}\\?token=([A-Za-z0-9_-]+)`).exec(text);
    if (!match) throw new Error(`no reset link in: ${text}`);
    return match[1];
  };

  async function requestLink(email: string, ip = freshIp(), count = 1): Promise<string> {
    const res = await postFrom(t.baseUrl, ip, '/api/account/password/forgot', { email });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.text)).toEqual({});
    const [newest] = await waitForMails(email, /Reset your LoginSign password/, count);
    return tokenOf(newest.text);
  }

  const reset = (token: unknown, password: unknown, ip = freshIp()) => postFrom(t.baseUrl, ip, '/api/account/password/reset', { token, password });

  const canLogin = async (email: string, password: string) =>
    (await fetch(`${t.baseUrl}/api/account/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).status;

  const me = async (user: TestUser) => (await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status;

  describe('JSON', () => {
    it('mails a link; the reset sets the password, confirms the address, ends every session and mails a notice', async () => {
      const user = await signUpUser(t.baseUrl);
      const other = await loginUser(t.baseUrl, user.email, user.password);
      const token = await requestLink(user.email);
      expect(token.length).toBeGreaterThanOrEqual(43);
      // Only the hash is stored: the raw token is no Redis key and appears in no value.
      expect(await redis().exists(`pwreset:user:link:{${token}}`)).toBe(0);
      expect(await redis().exists(`pwreset:user:link:{${sha256Hex(token)}}`)).toBe(1);

      const res = await reset(token, NEW_PASSWORD);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(await canLogin(user.email, user.password)).toBe(401);
      expect(await canLogin(user.email, NEW_PASSWORD)).toBe(200);
      expect(await me(user)).toBe(401);
      expect(await me(other)).toBe(401);
      const [row] = await db().query<Row[]>('SELECT confirmed_at FROM user_emails WHERE email = ?', [user.email]);
      expect(row.confirmed_at).toBeInstanceOf(Date);
      const [notice] = await waitForMails(user.email, /password was reset/);
      expect(notice.text).not.toContain(token);
    });

    it('answers 202 {} for an unknown address and sends nothing', async () => {
      const email = uniqueEmail('nobody');
      const res = await postFrom(t.baseUrl, freshIp(), '/api/account/password/forgot', { email });
      expect(res.status).toBe(202);
      expect(JSON.parse(res.text)).toEqual({});
      // A known address's mail goes out meanwhile: once it is there, the unknown one would be too.
      const known = await signUpUser(t.baseUrl);
      await requestLink(known.email);
      expect(await mailsTo(email)).toHaveLength(0);
    });

    it('refuses a used link', async () => {
      const user = await signUpUser(t.baseUrl);
      const token = await requestLink(user.email);
      expect((await reset(token, NEW_PASSWORD)).status).toBe(204);
      const again = await reset(token, 'yet another passphrase');
      expect(again.status).toBe(400);
      expect(JSON.parse(again.text)).toMatchObject({ error: 'invalid_request' });
      expect(await canLogin(user.email, NEW_PASSWORD)).toBe(200);
    });

    it('refuses an expired link', async () => {
      const user = await signUpUser(t.baseUrl);
      const token = await requestLink(user.email);
      const key = `pwreset:user:link:{${sha256Hex(token)}}`;
      expect(await redis().ttl(key)).toBeGreaterThan(3500);
      expect(await redis().ttl(key)).toBeLessThanOrEqual(3600);
      await redis().pexpire(key, 1);
      const deadline = Date.now() + 5000;
      while ((await redis().exists(key)) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const res = await reset(token, NEW_PASSWORD);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_request' });
      expect(await canLogin(user.email, user.password)).toBe(200);
    });

    it('a newer link voids the older one', async () => {
      const user = await signUpUser(t.baseUrl);
      const ip = freshIp();
      const first = await requestLink(user.email, ip, 1);
      const second = await requestLink(user.email, ip, 2);
      expect(second).not.toBe(first);
      const old = await reset(first, NEW_PASSWORD);
      expect(old.status).toBe(400);
      expect(await canLogin(user.email, user.password)).toBe(200);
      expect((await reset(second, NEW_PASSWORD)).status).toBe(204);
    });

    it('a bad password keeps the link usable', async () => {
      const user = await signUpUser(t.baseUrl);
      const token = await requestLink(user.email);
      for (const password of ['short', 'x'.repeat(201), 12345678, null, ['a long password']]) {
        const res = await reset(token, password);
        expect(res.status).toBe(400);
        expectError(res.text, 'invalid_request', /password/);
      }
      expect(await canLogin(user.email, user.password)).toBe(200);
      expect((await reset(token, NEW_PASSWORD)).status).toBe(204);
    });

    it('revokes every access and refresh token of the account', async () => {
      const developer = await signUpDeveloper(t.baseUrl);
      const created = await createApplication(t.baseUrl, developer.cookie, { name: 'Reset App', redirectUris: [REDIRECT_URI] });
      const app: ClientApp = { id: created.id, clientId: created.clientId, clientSecret: created.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie };
      const user = await signUpUser(t.baseUrl);
      const bystander = await signUpUser(t.baseUrl);
      const connect = async (who: TestUser) => {
        const { body } = await connectWithRefresh(t.baseUrl, app, who);
        expect(body.refresh_token).toBeTruthy();
        return { access: body.access_token, refresh: body.refresh_token! };
      };
      const mine = await connect(user);
      const theirs = await connect(bystander);
      expect((await currentUser(t.baseUrl, mine.access)).res.status).toBe(200);

      expect((await reset(await requestLink(user.email), NEW_PASSWORD)).status).toBe(204);

      const refresh = (token: string) =>
        fetch(`${t.baseUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId, client_secret: app.clientSecret }),
        });
      expect((await currentUser(t.baseUrl, mine.access)).res.status).toBe(401);
      const refused = await refresh(mine.refresh);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
      // Another user's tokens of the same app live on.
      expect((await currentUser(t.baseUrl, theirs.access)).res.status).toBe(200);
      expect((await refresh(theirs.refresh)).status).toBe(200);
    });

    it('sends at most 3 links per address and hour; the answer never changes', async () => {
      const user = await signUpUser(t.baseUrl);
      const ip = freshIp();
      for (let i = 1; i <= 3; i++) await requestLink(user.email, ip, i);
      const fourth = await postFrom(t.baseUrl, ip, '/api/account/password/forgot', { email: user.email });
      expect(fourth.status).toBe(202);
      expect(JSON.parse(fourth.text)).toEqual({});
      // A later mail to another address proves the queue moved on; the limited address got nothing more.
      const other = await signUpUser(t.baseUrl);
      await requestLink(other.email, ip);
      expect((await mailsTo(user.email)).filter((m) => /Reset/.test(m.subject))).toHaveLength(3);
    });

    it('limits requests per client IP to 20 an hour (429 with Retry-After), other IPs unaffected', async () => {
      const ip = freshIp();
      for (let i = 0; i < 20; i++) {
        expect((await postFrom(t.baseUrl, ip, '/api/account/password/forgot', { email: uniqueEmail('ip') })).status).toBe(202);
      }
      const limited = await postFrom(t.baseUrl, ip, '/api/account/password/forgot', { email: uniqueEmail('ip') });
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.text)).toMatchObject({ error: 'rate_limited' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await postFrom(t.baseUrl, freshIp(), '/api/account/password/forgot', { email: uniqueEmail('ip') })).status).toBe(202);
    });

    it('bad input answers 400 invalid_request and sends nothing', async () => {
      const ip = freshIp();
      const links = () => redis().keys(`${t.config.redisPrefix}:pwreset:user:link:*`);
      const before = (await links()).length;
      const mailsBefore = (await mailer().devMailbox()).length;
      for (const body of [{}, { email: 42 }, { email: ['a@example.com'] }, { email: 'not an address' }, { email: `${'a'.repeat(400)}@example.com` }, { email: null }]) {
        const res = await postFrom(t.baseUrl, ip, '/api/account/password/forgot', body);
        expect(res.status).toBe(400);
        expectError(res.text, 'invalid_request');
      }
      for (const body of [
        {},
        { token: 42, password: NEW_PASSWORD },
        { token: 'x'.repeat(5000), password: NEW_PASSWORD },
        { token: 'unknown-token-unknown-token-unknown', password: NEW_PASSWORD },
      ]) {
        const res = await postFrom(t.baseUrl, ip, '/api/account/password/reset', body);
        expect(res.status).toBe(400);
        expectError(res.text, 'invalid_request');
      }
      for (const path of ['/api/account/password/forgot', '/api/account/password/reset']) {
        expect((await postFrom(t.baseUrl, ip, path, '[1,2]')).status).toBe(400);
        const form = await postFrom(t.baseUrl, ip, path, 'email=a%40example.com', 'application/x-www-form-urlencoded');
        expect(form.status).toBe(415);
        expect(JSON.parse(form.text)).toMatchObject({ error: 'unsupported_media_type' });
      }
      expect(await links()).toHaveLength(before);
      expect(await mailer().devMailbox()).toHaveLength(mailsBefore);
    });
  });

  describe('pages', () => {
    it('/login links to the forgot page; its POST answers the same for known and unknown addresses', async () => {
      const login = await getPage(t.baseUrl, '/login', new CookieJar());
      expect(login.html).toContain('href="/password/forgot"');
      const user = await signUpUser(t.baseUrl);
      const texts: string[] = [];
      for (const email of [user.email, uniqueEmail('nobody')]) {
        const jar = new CookieJar();
        const form = await getPage(t.baseUrl, '/password/forgot', jar);
        expect(form.res.status).toBe(200);
        const res = await postForm(t.baseUrl, '/password/forgot', { _csrf: form.csrf!, email }, jar);
        expect(res.status).toBe(200);
        texts.push((await res.text()).replace(/name="_csrf" value="[^"]*"/, ''));
      }
      expect(texts[0]).toBe(texts[1]);
      expect(texts[0]).toContain('If an account uses this address, a link to reset its password is on its way');
    });

    it('forgot page: CSRF required, a malformed address is a 400 form error, nothing sent', async () => {
      const mailsBefore = (await mailer().devMailbox()).length;
      const jar = new CookieJar();
      const form = await getPage(t.baseUrl, '/password/forgot', jar);
      expect((await postForm(t.baseUrl, '/password/forgot', { email: 'a@example.com' }, jar)).status).toBe(403);
      for (const email of ['not an address', '', `${'a'.repeat(400)}@example.com`]) {
        const res = await postForm(t.baseUrl, '/password/forgot', { _csrf: form.csrf!, email }, jar);
        expect(res.status).toBe(400);
        expect(await res.text()).toContain('valid email address');
      }
      expect(await mailer().devMailbox()).toHaveLength(mailsBefore);
    });

    it('the mailed link shows a form; its POST sets the password and goes to /login; the link is spent', async () => {
      const user = await signUpUser(t.baseUrl);
      const token = await requestLink(user.email);
      const jar = new CookieJar();
      const form = await getPage(t.baseUrl, `/password/reset?token=${token}`, jar);
      expect(form.res.status).toBe(200);
      expect(form.res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(form.html).toContain(user.email);
      expect(inputValue(form.html, 'token')).toBe(token);
      const missingCsrf = await postForm(t.baseUrl, '/password/reset', { token, password: NEW_PASSWORD }, jar);
      expect(missingCsrf.status).toBe(403);
      const short = await postForm(t.baseUrl, '/password/reset', { _csrf: form.csrf!, token, password: 'short' }, jar);
      expect(short.status).toBe(400);
      expect(await short.text()).toContain('8');
      const done = await postForm(t.baseUrl, '/password/reset', { _csrf: form.csrf!, token, password: NEW_PASSWORD }, jar);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/login');
      expect(await canLogin(user.email, NEW_PASSWORD)).toBe(200);
      const spent = await getPage(t.baseUrl, `/password/reset?token=${token}`, jar);
      expect(spent.res.status).toBe(400);
      expect(spent.html).toContain('This reset link does not work');
    });
  });

  describe('developers', () => {
    it('same flow: JSON request, mailed link, reset ends portal sessions; used link refused', async () => {
      const developer = await signUpDeveloper(t.baseUrl);
      const res = await postFrom(t.baseUrl, freshIp(), '/api/developer/password/forgot', { email: developer.email });
      expect(res.status).toBe(202);
      expect(JSON.parse(res.text)).toEqual({});
      const [mail] = await waitForMails(developer.email, /developer password/);
      const token = tokenOf(mail.text, '/developer/password/reset');
      // A user-kind link is not a developer link and vice versa.
      expect((await reset(token, NEW_PASSWORD)).status).toBe(400);
      const done = await postFrom(t.baseUrl, freshIp(), '/api/developer/password/reset', { token, password: NEW_PASSWORD });
      expect(done.status).toBe(204);
      expect((await fetch(`${t.baseUrl}/api/developer/me`, { headers: { cookie: developer.cookie } })).status).toBe(401);
      const login = (password: string) =>
        fetch(`${t.baseUrl}/api/developer/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: developer.email, password }) });
      expect((await login(developer.password)).status).toBe(401);
      expect((await login(NEW_PASSWORD)).status).toBe(200);
      await waitForMails(developer.email, /password was reset/);
      const again = await postFrom(t.baseUrl, freshIp(), '/api/developer/password/reset', { token, password: 'another passphrase' });
      expect(again.status).toBe(400);
      expect(JSON.parse(again.text)).toMatchObject({ error: 'invalid_request' });
    });

    it('pages: /developer/login links to the forgot page; unknown address answered like a known one; bad input 400', async () => {
      const login = await getPage(t.baseUrl, '/developer/login', new CookieJar());
      expect(login.html).toContain('href="/developer/password/forgot"');
      const jar = new CookieJar();
      const form = await getPage(t.baseUrl, '/developer/password/forgot', jar);
      const res = await postForm(t.baseUrl, '/developer/password/forgot', { _csrf: form.csrf!, email: uniqueEmail('nodev') }, jar);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('If an account uses this address');
      for (const body of [{}, { email: 7 }, { token: 'nope-nope-nope-nope-nope', password: NEW_PASSWORD }]) {
        const path = 'email' in body || Object.keys(body).length === 0 ? '/api/developer/password/forgot' : '/api/developer/password/reset';
        const bad = await postFrom(t.baseUrl, freshIp(), path, body);
        expect(bad.status).toBe(400);
        expect(JSON.parse(bad.text)).toMatchObject({ error: 'invalid_request' });
      }
    });
  });
});
