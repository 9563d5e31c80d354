import { DataSource } from 'typeorm';
import { confirmSignUpAddress, signUpUser, TestUser, uniqueEmail } from '../support/accounts';
import { createApplication, signUpDeveloper, UsersPage } from '../support/developer';
import { CookieJar, getPage, inputValue, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { startSink } from '../support/relay';
import { ClientApp, connectWithRefresh, currentUser } from '../support/oauth';
import { countRows, Row, webhookEvents } from '../support/db';

const REDIRECT_URI = 'https://client.example/cb';
const WEBHOOK_URL = 'https://hooks.example.com/loginsign';
const RELAY = /^[a-z0-9]{6}@loginsign\.com$/;
const XSS = '<script>alert(1)</script>';

interface Connected {
  token: string;
  refreshToken?: string;
  connectionId: string;
}

describe('Account center (/account)', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  /** An application with a webhook URL, so every change leaves an outbox row. */
  async function clientApp(name = 'Photo <Share>'): Promise<ClientApp> {
    const developer = await signUpDeveloper(t.baseUrl);
    const app = await createApplication(t.baseUrl, developer.cookie, { name, redirectUris: [REDIRECT_URI], webhookUrl: WEBHOOK_URL });
    return { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie };
  }

  /** Consent + code + token (with a refresh token: offline_access). */
  async function connect(app: ClientApp, user: TestUser, share = 'relay'): Promise<Connected & { consentShown: boolean }> {
    const { body, consentShown } = await connectWithRefresh(t.baseUrl, app, user, share);
    const profile = await currentUser(t.baseUrl, body.access_token);
    return { token: body.access_token, refreshToken: body.refresh_token, connectionId: profile.body.id, consentShown };
  }

  const events = (appId: string) => webhookEvents(db(), appId);
  const lastEvent = async (appId: string) => (await events(appId)).at(-1);
  const connectionRow = async (id: string) => (await db().query<Row[]>('SELECT * FROM connections WHERE id = ?', [id]))[0];

  /** GET the page, POST its form (the page's _csrf) to `action`; returns the response. */
  async function submit(user: TestUser, pagePath: string, action: string, fields: Record<string, string>): Promise<Response> {
    const page = await getPage(t.baseUrl, pagePath, user.jar);
    expect(page.res.status).toBe(200);
    return postForm(t.baseUrl, action, { _csrf: page.csrf!, ...fields }, user.jar);
  }

  /** The newest verification link mailed to `to`, from the dev mailbox page. */
  async function mailedLink(to: string): Promise<string> {
    const page = await getPage(t.baseUrl, '/dev/mailbox', new CookieJar());
    expect(page.res.status).toBe(200);
    const articles = page.html.split('<article').slice(1);
    const mail = articles.find((a) => a.includes(`<strong>${to}</strong>`));
    if (!mail) throw new Error(`no mail to ${to}`);
    const href = /href="([^"]*\/account\/emails\/verify\?token=[^"]*)"/.exec(mail)![1];
    return href.replace(/&amp;/g, '&');
  }

  async function addAndVerify(user: TestUser, email: string): Promise<void> {
    const res = await submit(user, '/account/emails', '/account/emails', { password: user.password, email });
    expect(res.status).toBe(303);
    const link = new URL(await mailedLink(email));
    const confirm = await getPage(t.baseUrl, `${link.pathname}${link.search}`, user.jar);
    expect(confirm.res.status).toBe(200);
    const done = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: confirm.csrf!, token: inputValue(confirm.html, 'token')! }, user.jar);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/account/emails?done=verified');
    // Confirmed by its owner: what OpenID Connect's email_verified reports.
    const [row] = await db().query<Row[]>('SELECT confirmed_at FROM user_emails WHERE email = ?', [email]);
    expect(row.confirmed_at).toBeInstanceOf(Date);
  }

  describe('pages', () => {
    it('needs a session: every page sends an anonymous visitor to the login page', async () => {
      for (const path of ['/account', '/account/emails', '/account/apps', '/account/security', '/account/delete']) {
        const res = await fetch(`${t.baseUrl}${path}`, { redirect: 'manual' });
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toBe(`/login?return_to=${path}`);
      }
    });

    it('escapes a hostile name, region, address and app name on every page', async () => {
      const user = await signUpUser(t.baseUrl, { name: XSS, region: `"><img src=x onerror=alert(2)>` });
      const app = await clientApp(`<b onmouseover=alert(3)>App</b>`);
      const { connectionId } = await connect(app, user);
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email: `x${Date.now()}@example.com` });
      for (const path of ['/account', '/account/emails', '/account/apps', `/account/apps/${connectionId}`, '/account/security', '/account/delete', '/dev/mailbox']) {
        const { res, html } = await getPage(t.baseUrl, path, user.jar);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(html).not.toContain(XSS);
        expect(html).not.toContain('<img src=x');
        expect(html).not.toContain('<b onmouseover');
        if (path !== '/dev/mailbox') expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
        // Every form carries _csrf; every input has a label (or is hidden).
        const forms = html.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
        for (const form of forms) expect(form).toContain('name="_csrf"');
        for (const input of html.match(/<input\b[^>]*>/g) ?? []) {
          if (/type="(hidden|radio)"|\shidden\s*\/?>/.test(input)) continue;
          const id = /\bid="([^"]+)"/.exec(input)?.[1];
          expect(id && html.includes(`for="${id}"`)).toBeTruthy();
        }
      }
    });

    it('refuses a form without a valid _csrf with 403 and changes nothing', async () => {
      const user = await signUpUser(t.baseUrl);
      const res = await postForm(t.baseUrl, '/account/profile', { name: 'Changed', image: '', region: 'France' }, user.jar);
      expect(res.status).toBe(403);
      const foreign = await submit(user, '/account', '/account/profile', { name: 'Changed', image: '', region: 'France' }).catch(() => null);
      expect(foreign?.status).toBe(303);
      const page = await getPage(t.baseUrl, '/account', user.jar);
      const cross = await postForm(t.baseUrl, '/account/profile', { _csrf: page.csrf!, name: 'Evil', image: '', region: 'X' }, user.jar, { origin: 'https://evil.example' });
      expect(cross.status).toBe(403);
      expect((await db().query<Row[]>('SELECT name FROM users WHERE global_id = ?', [user.globalId]))[0].name).toBe('Changed');
    });
  });

  describe('profile and password', () => {
    it('saves name, image and region; the connections copy of the name follows', async () => {
      const user = await signUpUser(t.baseUrl);
      const app = await clientApp();
      const { token, connectionId } = await connect(app, user);
      const res = await submit(user, '/account', '/account/profile', { name: '  Grace Renamed ', image: 'https://img.example/me.png', region: 'France' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account?done=profile');
      const page = await getPage(t.baseUrl, res.headers.get('location')!, user.jar);
      expect(page.html).toContain('Your profile was saved.');
      expect(page.html).toContain('Grace Renamed');
      expect(page.html).toContain('src="https://img.example/me.png"');
      expect((await connectionRow(connectionId)).user_name).toBe('Grace Renamed');
      const profile = await currentUser(t.baseUrl, token);
      expect(profile.body).toMatchObject({ name: 'Grace Renamed', image: 'https://img.example/me.png' });

      // Empty image = none.
      await submit(user, '/account', '/account/profile', { name: 'Grace Renamed', image: '', region: 'France' });
      expect((await currentUser(t.baseUrl, token)).body.image).toBeNull();
    });

    it.each([
      [{ name: '', image: '', region: 'France' }, /name must be/i],
      [{ name: 'A', image: 'http://img.example/x.png', region: 'France' }, /https:\/\/ URL/],
      [{ name: 'A', image: 'javascript:alert(1)', region: 'France' }, /https:\/\/ URL/],
      [{ name: 'A', image: '', region: '' }, /region must be/i],
    ])('rejects the profile %j with 400 and keeps the form', async (fields, message) => {
      const user = await signUpUser(t.baseUrl);
      const res = await submit(user, '/account', '/account/profile', fields);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(message);
      expect((await db().query<Row[]>('SELECT name, region FROM users WHERE global_id = ?', [user.globalId]))[0]).toMatchObject({ name: user.name, region: user.region });
    });

    it('changes the password with the old one; other sessions are signed out, this one stays', async () => {
      const user = await signUpUser(t.baseUrl);
      const other = await fetch(`${t.baseUrl}/api/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, password: user.password }),
      });
      const otherCookie = other.headers.getSetCookie()[0].split(';')[0];
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: otherCookie } })).status).toBe(200);

      const wrong = await submit(user, '/account/security', '/account/password', { current_password: 'not my password', new_password: 'a brand new password' });
      expect(wrong.status).toBe(400);
      expect(await wrong.text()).toContain('current password is not correct');
      const short = await submit(user, '/account/security', '/account/password', { current_password: user.password, new_password: 'short' });
      expect(short.status).toBe(400);

      const res = await submit(user, '/account/security', '/account/password', { current_password: user.password, new_password: 'a brand new password' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account/security?done=password');
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: otherCookie } })).status).toBe(401);
      // This browser stays signed in, under a new session id: the old one is dead.
      expect(user.jar.get('ls_session')).not.toBe(user.sessionId);
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.jar.header() } })).status).toBe(200);
      const login = (password: string) =>
        fetch(`${t.baseUrl}/api/account/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password }) });
      expect((await login(user.password)).status).toBe(401);
      expect((await login('a brand new password')).status).toBe(200);
    });
  });

  describe('linked email addresses', () => {
    it('adds an address only once its emailed link is followed; the link is single use', async () => {
      const user = await signUpUser(t.baseUrl);
      const email = uniqueEmail('second');
      const add = await submit(user, '/account/emails', '/account/emails', { password: user.password, email: email.toUpperCase() });
      expect(add.status).toBe(303);
      expect(add.headers.get('location')).toBe('/account/emails?done=email-sent');
      // Pending: shown, not linked, cannot sign in with it.
      const pending = await getPage(t.baseUrl, '/account/emails', user.jar);
      expect(pending.html).toContain('Waiting for confirmation');
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [email])).toBe(0);
      const [stored] = await db().query<{ token_hash: Buffer }[]>('SELECT token_hash FROM email_verifications WHERE email = ?', [email]);
      const link = new URL(await mailedLink(email));
      const token = link.searchParams.get('token')!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(stored.token_hash).toString('hex')).not.toContain(Buffer.from(token).toString('hex'));

      // Following the link needs the account's session: another browser is sent to the login page first; a GET changes nothing.
      const anonymous = await getPage(t.baseUrl, `${link.pathname}${link.search}`, new CookieJar());
      expect(anonymous.res.status).toBe(303);
      expect(anonymous.res.headers.get('location')).toBe(`/login?${new URLSearchParams({ return_to: `${link.pathname}${link.search}` })}`);
      const other = user.jar;
      const confirm = await getPage(t.baseUrl, `${link.pathname}${link.search}`, other);
      expect(confirm.res.status).toBe(200);
      expect(confirm.html).toContain(email);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [email])).toBe(0);
      const done = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: confirm.csrf!, token }, other);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/account/emails?done=verified');
      const [row] = await db().query<Row[]>('SELECT linked, is_primary FROM user_emails WHERE email = ?', [email]);
      expect(row).toMatchObject({ linked: 1, is_primary: 0 });

      // Single use.
      const again = await getPage(t.baseUrl, `${link.pathname}${link.search}`, other);
      expect(again.res.status).toBe(400);
      expect(again.html).toContain('not valid');
      const replay = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: confirm.csrf!, token }, other);
      expect(replay.status).toBe(400);

      // Linked: listed, and a login address.
      expect((await getPage(t.baseUrl, '/account/emails', user.jar)).html).toContain(email);
      const login = await fetch(`${t.baseUrl}/api/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: user.password }),
      });
      expect(login.status).toBe(200);
    });

    it('expires links after 24 hours; a new request replaces the old link', async () => {
      const user = await signUpUser(t.baseUrl);
      const email = uniqueEmail('late');
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email });
      const first = new URL(await mailedLink(email)).searchParams.get('token')!;
      const [row] = await db().query<Row[]>('SELECT TIMESTAMPDIFF(SECOND, created_at, expires_at) AS ttl FROM email_verifications WHERE email = ?', [email]);
      expect(Number(row.ttl)).toBe(24 * 3600);
      await db().query('UPDATE email_verifications SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE email = ?', [email]);
      const page = await getPage(t.baseUrl, `/account/emails/verify?token=${first}`, user.jar);
      expect(page.res.status).toBe(400);
      const expired = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: (await getPage(t.baseUrl, '/account', user.jar)).csrf!, token: first }, user.jar);
      expect(expired.status).toBe(400);

      // Ask again: a new link; the old one stays dead.
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email });
      const second = new URL(await mailedLink(email)).searchParams.get('token')!;
      expect(second).not.toBe(first);
      expect((await getPage(t.baseUrl, `/account/emails/verify?token=${first}`, user.jar)).res.status).toBe(400);
      expect((await getPage(t.baseUrl, `/account/emails/verify?token=${second}`, user.jar)).res.status).toBe(200);
    });

    it('one link, five concurrent confirmations: exactly one links the address', async () => {
      const user = await signUpUser(t.baseUrl);
      const email = uniqueEmail('race');
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email });
      const token = new URL(await mailedLink(email)).searchParams.get('token')!;
      const jar = user.jar;
      const page = await getPage(t.baseUrl, `/account/emails/verify?token=${token}`, jar);
      const results = await Promise.all(Array.from({ length: 5 }, () => postForm(t.baseUrl, '/account/emails/verify', { _csrf: page.csrf!, token }, jar)));
      expect(results.map((r) => r.status).sort()).toEqual([303, 400, 400, 400, 400]);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [email])).toBe(1);
    });

    it('limits verification mails to 10 a day per account (429 after)', async () => {
      const user = await signUpUser(t.baseUrl);
      // Asking again for the same address, or cancelling it, still counts.
      const same = uniqueEmail('same');
      for (let i = 0; i < 4; i++) expect((await submit(user, '/account/emails', '/account/emails', { password: user.password, email: same })).status).toBe(303);
      expect((await submit(user, '/account/emails', '/account/emails/remove', { email: same })).status).toBe(303);
      for (let i = 4; i < 10; i++) expect((await submit(user, '/account/emails', '/account/emails', { password: user.password, email: uniqueEmail(`n${i}`) })).status).toBe(303);
      const res = await submit(user, '/account/emails', '/account/emails', { password: user.password, email: uniqueEmail('eleven') });
      expect(res.status).toBe(429);
      expect(await res.text()).toContain('Too many verification emails');
    });

    it('refuses bad, taken and own addresses', async () => {
      const user = await signUpUser(t.baseUrl);
      const other = await signUpUser(t.baseUrl);
      const bad = await submit(user, '/account/emails', '/account/emails', { password: user.password, email: 'not an email' });
      expect(bad.status).toBe(400);
      const taken = await submit(user, '/account/emails', '/account/emails', { password: user.password, email: other.email });
      expect(taken.status).toBe(409);
      const own = await submit(user, '/account/emails', '/account/emails', { password: user.password, email: user.email });
      expect(own.status).toBe(409);
      expect(await own.text()).toContain('already linked to your account');
    });

    it('a pending address does not block its owner from signing up; their sign-up wins', async () => {
      const squatter = await signUpUser(t.baseUrl);
      const email = uniqueEmail('victim');
      await submit(squatter, '/account/emails', '/account/emails', { password: squatter.password, email });
      const token = new URL(await mailedLink(email)).searchParams.get('token')!;
      const victim = await signUpUser(t.baseUrl, { email });
      expect(victim.email).toBe(email);
      const jar = squatter.jar;
      const page = await getPage(t.baseUrl, `/account/emails/verify?token=${token}`, jar);
      const res = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: page.csrf!, token }, jar);
      expect(res.status).toBe(409);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [email])).toBe(1);
    });

    it('removes an address (not the primary, not the last); apps that saw it get the relay address', async () => {
      const user = await signUpUser(t.baseUrl);
      const second = uniqueEmail('second');
      await addAndVerify(user, second);
      const app = await clientApp();
      const { connectionId, token } = await connect(app, user, second);
      expect((await currentUser(t.baseUrl, token)).body.email).toBe(second);

      const primary = await submit(user, '/account/emails', '/account/emails/remove', { email: user.email });
      expect(primary.status).toBe(400);
      expect(await primary.text()).toContain('primary address');

      const res = await submit(user, '/account/emails', '/account/emails/remove', { email: second });
      expect(res.status).toBe(303);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [second])).toBe(0);
      const shared = (await connectionRow(connectionId)).shared_email;
      expect(shared).toMatch(RELAY);
      expect(await lastEvent(app.id)).toEqual({ type: 'user_email_changed', data: { applicationId: app.id, connectionId, globalId: user.globalId, email: shared } });
      expect((await currentUser(t.baseUrl, token)).body.email).toBe(shared);

      const missing = await submit(user, '/account/emails', '/account/emails/remove', { email: second });
      expect(missing.status).toBe(404);
    });

    it('makes a verified address primary; the old primary can then be removed', async () => {
      const user = await signUpUser(t.baseUrl);
      const second = uniqueEmail('primary');
      const unverified = await submit(user, '/account/emails', '/account/emails/primary', { email: uniqueEmail('nope') });
      expect(unverified.status).toBe(400);
      await addAndVerify(user, second);
      expect((await submit(user, '/account/emails', '/account/emails/primary', { email: second })).status).toBe(303);
      expect((await db().query<Row[]>('SELECT email FROM user_emails WHERE is_primary = 1 AND email IN (?, ?)', [user.email, second])).map((r) => r.email)).toEqual([second]);
      expect((await submit(user, '/account/emails', '/account/emails/remove', { email: user.email })).status).toBe(303);
      const last = await submit(user, '/account/emails', '/account/emails/remove', { email: second });
      expect(last.status).toBe(400);
    });

    it('sends the link over SMTP_URL (nodemailer) when it is configured, and not to the dev mailbox', async () => {
      const sink = await startSink();
      const api = await startApi({ SMTP_URL: sink.url });
      try {
        const user = await signUpUser(api.baseUrl);
        const email = uniqueEmail('smtp');
        const page = await getPage(api.baseUrl, '/account/emails', user.jar);
        expect(page.html).not.toContain('/dev/mailbox');
        const res = await postForm(api.baseUrl, '/account/emails', { _csrf: page.csrf!, password: user.password, email }, user.jar);
        expect(res.status).toBe(303);
        await sink.waitFor((r) => r.some((m) => m.to.includes(email)));
        const mail = sink.received.find((m) => m.to.includes(email))!;
        const text = mail.raw
          .toString('utf8')
          .replace(/=\r?\n/g, '')
          .replace(/=3D/g, '=');
        expect(text).toMatch(/^Subject: Confirm your email address for LoginSign/m);
        const link = /(http:\/\/\S+\/account\/emails\/verify\?token=[A-Za-z0-9_-]{43})/.exec(text)![1];
        expect(link.startsWith(api.baseUrl)).toBe(true);
        const mailbox = await getPage(api.baseUrl, '/dev/mailbox', new CookieJar());
        expect(mailbox.html).not.toContain(email);
        const confirm = await getPage(api.baseUrl, new URL(link).pathname + new URL(link).search, user.jar);
        expect(confirm.res.status).toBe(200);
        expect(confirm.html).toContain(email);
      } finally {
        await api.close();
        await sink.close();
      }
    });

    it('/dev/mailbox lists mail newest first and is 404 in production', async () => {
      const user = await signUpUser(t.baseUrl);
      const a = uniqueEmail('first');
      const b = uniqueEmail('second');
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email: a });
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email: b });
      const { html } = await getPage(t.baseUrl, '/dev/mailbox', new CookieJar());
      expect(html.indexOf(b)).toBeGreaterThan(-1);
      expect(html.indexOf(b)).toBeLessThan(html.indexOf(a));

      const prod = await startApi({
        NODE_ENV: 'production',
        PUBLIC_URL: 'http://127.0.0.1:1',
        ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
      });
      try {
        const res = await fetch(`${prod.baseUrl}/dev/mailbox`);
        expect(res.status).toBe(404);
      } finally {
        await prod.close();
      }
    });
  });

  describe('apps using LoginSign', () => {
    it('lists each app with when it joined, was last used and the address it sees', async () => {
      const user = await signUpUser(t.baseUrl);
      const app = await clientApp('Listed App');
      const { connectionId } = await connect(app, user);
      const { html } = await getPage(t.baseUrl, '/account/apps', user.jar);
      expect(html).toContain('Listed App');
      expect(html).toContain(`/account/apps/${connectionId}`);
      expect(html).toContain('Hidden (relay)');
      expect(html).toMatch(/Joined <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">/);
      expect(html).toMatch(/Last used <time/);
      const detail = await getPage(t.baseUrl, `/account/apps/${connectionId}`, user.jar);
      expect(detail.html).toContain((await connectionRow(connectionId)).relay_local);
    });

    it('changes the address an app sees: a linked one, none, relay (user_email_changed)', async () => {
      const user = await signUpUser(t.baseUrl);
      const app = await clientApp();
      const { connectionId, token } = await connect(app, user);
      const path = `/account/apps/${connectionId}`;
      const relay = (await connectionRow(connectionId)).shared_email;
      const base = { applicationId: app.id, connectionId, globalId: user.globalId };
      // Unconfirmed, the sign-up address cannot be shared; confirmed, it can.
      expect((await submit(user, path, `${path}/email`, { share: user.email })).status).toBe(400);
      await confirmSignUpAddress(t.baseUrl, user);

      const shareReal = await submit(user, path, `${path}/email`, { share: user.email });
      expect(shareReal.status).toBe(303);
      expect(shareReal.headers.get('location')).toBe(`${path}?done=app-email`);
      expect(await lastEvent(app.id)).toEqual({ type: 'user_email_changed', data: { ...base, email: user.email } });
      expect((await currentUser(t.baseUrl, token)).body.email).toBe(user.email);

      await submit(user, path, `${path}/email`, { share: 'none' });
      expect(await lastEvent(app.id)).toEqual({ type: 'user_email_changed', data: { ...base, email: null } });
      expect((await currentUser(t.baseUrl, token)).body.email).toBeNull();

      await submit(user, path, `${path}/email`, { share: 'relay' });
      expect(await lastEvent(app.id)).toEqual({ type: 'user_email_changed', data: { ...base, email: relay } });

      // Unchanged: no event. Not a linked address: 400, nothing changes.
      const before = (await events(app.id)).length;
      await submit(user, path, `${path}/email`, { share: 'relay' });
      const foreign = await submit(user, path, `${path}/email`, { share: 'someone@else.example' });
      expect(foreign.status).toBe(400);
      expect((await events(app.id)).length).toBe(before);
      expect((await connectionRow(connectionId)).shared_email).toBe(relay);
    });

    it('turns forwarding off and on (email_forwarding_changed) and mutes (email_muted_changed)', async () => {
      const user = await signUpUser(t.baseUrl);
      const app = await clientApp();
      const { connectionId } = await connect(app, user);
      const path = `/account/apps/${connectionId}`;
      const base = { applicationId: app.id, connectionId, globalId: user.globalId };

      const off = await submit(user, path, `${path}/forwarding`, { isForwarding: 'false' });
      expect(off.status).toBe(303);
      expect(off.headers.get('location')).toBe(`${path}?done=forwarding-off`);
      expect((await connectionRow(connectionId)).is_forwarding).toBe(0);
      expect(await lastEvent(app.id)).toEqual({ type: 'email_forwarding_changed', data: { ...base, isForwarding: false } });
      const page = await getPage(t.baseUrl, `${path}?done=forwarding-off`, user.jar);
      expect(page.html).toContain('Email forwarding is off.');
      expect(page.html).toContain('Turn forwarding on');

      await submit(user, path, `${path}/forwarding`, { isForwarding: 'true' });
      expect(await lastEvent(app.id)).toEqual({ type: 'email_forwarding_changed', data: { ...base, isForwarding: true } });

      await submit(user, path, `${path}/mute`, { emailMuted: 'true' });
      expect((await connectionRow(connectionId)).email_muted).toBe(1);
      expect(await lastEvent(app.id)).toEqual({ type: 'email_muted_changed', data: { ...base, emailMuted: true } });
      // The developer sees it too.
      const listed = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users`, { headers: { cookie: app.developerCookie } });
      expect(((await listed.json()) as UsersPage).users[0]).toMatchObject({ id: connectionId, emailMuted: true, isForwarding: true });
      await submit(user, path, `${path}/mute`, { emailMuted: 'false' });
      expect(await lastEvent(app.id)).toEqual({ type: 'email_muted_changed', data: { ...base, emailMuted: false } });

      const bad = await submit(user, path, `${path}/mute`, { emailMuted: 'maybe' });
      expect(bad.status).toBe(400);
    });

    it('stops using LoginSign with an app: tokens revoked, inactive, counters moved, consent asked again, user_consent_revoked', async () => {
      const user = await signUpUser(t.baseUrl);
      const app = await clientApp();
      const { connectionId, token, refreshToken } = await connect(app, user);
      expect(refreshToken).toBeTruthy();
      const path = `/account/apps/${connectionId}`;

      const res = await submit(user, path, `${path}/revoke`, {});
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${path}?done=revoked`);
      expect((await connectionRow(connectionId)).active).toBe(0);
      expect(await lastEvent(app.id)).toEqual({ type: 'user_consent_revoked', data: { applicationId: app.id, connectionId, globalId: user.globalId } });
      expect((await currentUser(t.baseUrl, token)).res.status).toBe(401);
      const refreshed = await fetch(`${t.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: app.clientId, client_secret: app.clientSecret }),
      });
      expect(refreshed.status).toBe(400);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM access_tokens WHERE connection_id = ? AND revoked = 0', [connectionId])).toBe(0);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE connection_id = ? AND revoked = 0', [connectionId])).toBe(0);
      const [counts] = await db().query<Row[]>(
        'SELECT CAST(SUM(active) AS SIGNED) AS active, CAST(SUM(inactive) AS SIGNED) AS inactive, CAST(SUM(blocked) AS SIGNED) AS blocked FROM application_user_counts WHERE application_id = ?',
        [app.id],
      );
      expect(counts).toMatchObject({ active: 0, inactive: 1, blocked: 0 });

      // The page says so, without the button; a second revoke records nothing.
      const page = await getPage(t.baseUrl, path, user.jar);
      expect(page.html).toContain('You stopped using LoginSign with this app');
      expect(page.html).not.toContain(`${path}/revoke`);
      const before = (await events(app.id)).length;
      await postForm(t.baseUrl, `${path}/revoke`, { _csrf: page.csrf! }, user.jar);
      expect((await events(app.id)).length).toBe(before);

      // The next sign-in asks for consent again, and the same connection comes back.
      const again = await connect(app, user);
      expect(again.consentShown).toBe(true);
      expect(again.connectionId).toBe(connectionId);
      expect((await connectionRow(connectionId)).active).toBe(1);
    });

    it("cannot see or change another user's app (404)", async () => {
      const owner = await signUpUser(t.baseUrl);
      const intruder = await signUpUser(t.baseUrl);
      const app = await clientApp();
      const { connectionId } = await connect(app, owner);
      const path = `/account/apps/${connectionId}`;
      expect((await getPage(t.baseUrl, path, intruder.jar)).res.status).toBe(404);
      const csrf = (await getPage(t.baseUrl, '/account', intruder.jar)).csrf!;
      for (const [action, fields] of [
        ['revoke', {}],
        ['forwarding', { isForwarding: 'false' }],
        ['mute', { emailMuted: 'true' }],
        ['email', { share: 'none' }],
      ] as const) {
        const res = await postForm(t.baseUrl, `${path}/${action}`, { _csrf: csrf, ...fields }, intruder.jar);
        expect(res.status).toBe(404);
      }
      expect(await connectionRow(connectionId)).toMatchObject({ active: 1, is_forwarding: 1, email_muted: 0 });
      expect((await getPage(t.baseUrl, '/account/apps/..%2F..%2Fadmin', owner.jar)).res.status).toBe(404);
    });
  });

  describe('deleting the account', () => {
    it('needs the password; closes every connection (user_account_deleted), leaves nothing behind; the email can sign up again', async () => {
      const user = await signUpUser(t.baseUrl);
      const [{ id: userId }] = await db().query<Row[]>('SELECT id FROM users WHERE global_id = ?', [user.globalId]);
      await addAndVerify(user, uniqueEmail('extra'));
      await submit(user, '/account/emails', '/account/emails', { password: user.password, email: uniqueEmail('pending') });
      const apps = [await clientApp('One'), await clientApp('Two')];
      const connected = [await connect(apps[0], user), await connect(apps[1], user)];
      const otherSession = await fetch(`${t.baseUrl}/api/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, password: user.password }),
      });
      const otherCookie = otherSession.headers.getSetCookie()[0].split(';')[0];

      const page = await getPage(t.baseUrl, '/account/delete', user.jar);
      expect(page.html).toContain('One');
      expect(page.html).toContain('Two');
      const wrong = await postForm(t.baseUrl, '/account/delete', { _csrf: page.csrf!, password: 'wrong password' }, user.jar);
      expect(wrong.status).toBe(400);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM users WHERE id = ?', [userId])).toBe(1);

      const res = await postForm(t.baseUrl, '/account/delete', { _csrf: page.csrf!, password: user.password }, user.jar);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account/deleted');
      expect((await getPage(t.baseUrl, '/account/deleted', user.jar)).html).toContain('was deleted');

      for (const [i, app] of apps.entries()) {
        expect(await events(app.id)).toEqual([
          { type: 'user_connected', data: { applicationId: app.id, connectionId: connected[i].connectionId, globalId: user.globalId } },
          { type: 'user_account_deleted', data: { applicationId: app.id, connectionId: connected[i].connectionId, globalId: user.globalId } },
        ]);
        const [counts] = await db().query<Row[]>(
          'SELECT CAST(SUM(active) AS SIGNED) AS active, CAST(SUM(inactive) AS SIGNED) AS inactive, CAST(SUM(blocked) AS SIGNED) AS blocked FROM application_user_counts WHERE application_id = ?',
          [app.id],
        );
        expect(counts).toMatchObject({ active: 0, inactive: 0, blocked: 0 });
        expect((await currentUser(t.baseUrl, connected[i].token)).res.status).toBe(401);
      }
      for (const table of ['connections', 'user_emails', 'email_verifications']) {
        expect(await countRows(db(), `SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`, [userId])).toBe(0);
      }
      const ids = connected.map((c) => c.connectionId);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM access_tokens WHERE connection_id IN (?)', [ids])).toBe(0);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE connection_id IN (?)', [ids])).toBe(0);
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: otherCookie } })).status).toBe(401);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('ls_session=;'))).toBe(true);

      // The same email signs up again as a new account with a new Global ID; the old one is retired.
      const again = await signUpUser(t.baseUrl, { email: user.email });
      expect(again.globalId).not.toBe(user.globalId);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM users WHERE global_id = ?', [user.globalId])).toBe(0);
      // Signing in to an app again is a fresh connection (new id, new relay address).
      const fresh = await connect(apps[0], again);
      expect(fresh.consentShown).toBe(true);
      expect(fresh.connectionId).not.toBe(connected[0].connectionId);
    });
  });
});
