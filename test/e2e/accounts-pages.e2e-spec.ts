import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { sessionIdFrom, signUpUser, uniqueEmail } from '../support/accounts';
import { CookieJar, getPage, inputValue, postForm, submitForm } from '../support/forms';
import { countRows } from '../support/db';

describe('accounts: HTML pages', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const countUsers = async () => await countRows(db, 'SELECT COUNT(*) AS n FROM users');
  const signUpFields = (overrides: Record<string, string> = {}) => ({
    name: 'Grace Hopper',
    email: uniqueEmail(),
    password: 'cobol is fine',
    region: 'United States',
    ...overrides,
  });

  it('renders the sign-up form with labels, autocomplete hints, _csrf and return_to, under a strict CSP', async () => {
    const { res, html, csrf } = await getPage(t.baseUrl, '/signup?return_to=/oauth/authorize?x=1', new CookieJar());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(inputValue(html, 'return_to')).toBe('/oauth/authorize?x=1');
    for (const [name, autocomplete] of [
      ['name', 'name'],
      ['email', 'email'],
      ['password', 'new-password'],
      ['region', 'country-name'],
    ]) {
      expect(html).toMatch(new RegExp(`<input[^>]*name="${name}"[^>]*autocomplete="${autocomplete}"`));
      expect(html).toContain(`<label for="${name}">`);
      expect(html).toMatch(new RegExp(`<input[^>]*id="${name}"`));
    }
    expect(res.headers.getSetCookie().some((c) => /^ls_csrf=.*HttpOnly/i.test(c))).toBe(true);
  });

  it('renders the login form with current-password and a safe return_to', async () => {
    const { res, html } = await getPage(t.baseUrl, '/login?return_to=https://evil.example/', new CookieJar());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toMatch(/<input[^>]*name="email"[^>]*autocomplete="email( webauthn)?"/);
    expect(html).toMatch(/<input[^>]*name="password"[^>]*autocomplete="current-password"/);
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="password">');
    expect(inputValue(html, 'return_to')).toBe('/account');
  });

  it('signs up through the form: 303 to /account with a session cookie', async () => {
    const jar = new CookieJar();
    const fields = signUpFields();
    const res = await submitForm(t.baseUrl, '/signup', fields, jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
    expect(sessionIdFrom(res)).toBeDefined();
    const account = await getPage(t.baseUrl, '/account', jar);
    expect(account.res.status).toBe(200);
    expect(account.html).toContain('Grace Hopper');
    expect(account.html).toContain(fields.email);
    expect(account.html).toMatch(/<code>[A-Z]{2}[0-9]{4}<\/code>/);
    expect(account.html).toContain('United States');
  });

  it('refuses a sign-up form without a valid _csrf with 403 and writes nothing', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.baseUrl, '/signup', jar);
    const before = await countUsers();
    const missing = await postForm(t.baseUrl, '/signup', signUpFields(), jar);
    expect(missing.status).toBe(403);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
    const wrong = await postForm(t.baseUrl, '/signup', { ...signUpFields(), _csrf: page.csrf!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }, jar);
    expect(wrong.status).toBe(403);
    // A valid token without its cookie (another browser) does not pass either.
    const noCookie = await postForm(t.baseUrl, '/signup', { ...signUpFields(), _csrf: page.csrf! }, new CookieJar());
    expect(noCookie.status).toBe(403);
    // Nor from another site, even with the right token and cookie.
    const crossSite = await postForm(t.baseUrl, '/signup', { ...signUpFields(), _csrf: page.csrf! }, jar, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await countUsers()).toBe(before);
    expect(missing.headers.getSetCookie().some((c) => c.startsWith('ls_session='))).toBe(false);
  });

  it('re-renders the sign-up form on bad input (400) and a taken email (409), keeping name and email but never the password', async () => {
    const jar = new CookieJar();
    const short = await submitForm(t.baseUrl, '/signup', signUpFields({ name: 'Short <Pw>', password: 'short' }), jar);
    expect(short.status).toBe(400);
    const shortHtml = await short.text();
    expect(shortHtml).toContain('role="alert"');
    expect(shortHtml).toContain('Password must be 8 to 128 characters.');
    expect(inputValue(shortHtml, 'name')).toBe('Short <Pw>');
    expect(shortHtml).toContain('Short &lt;Pw&gt;');
    expect(shortHtml).not.toContain('value="short"');

    const user = await signUpUser(t.baseUrl);
    const taken = await submitForm(t.baseUrl, '/signup', signUpFields({ email: user.email.toUpperCase(), password: 'secret-password-1' }), jar);
    expect(taken.status).toBe(409);
    const takenHtml = await taken.text();
    expect(takenHtml).toMatch(/already exists/);
    expect(inputValue(takenHtml, 'email')).toBe(user.email.toUpperCase());
    expect(takenHtml).not.toContain('secret-password-1');
    expect(inputValue(takenHtml, '_csrf')).toBeTruthy();
  });

  it('logs in through the form and goes back to a same-origin return_to with 303', async () => {
    const user = await signUpUser(t.baseUrl);
    const jar = new CookieJar();
    const res = await submitForm(t.baseUrl, '/login?return_to=/oauth/authorize?x=1', { email: user.email, password: user.password, return_to: '/oauth/authorize?x=1' }, jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/oauth/authorize?x=1');
    const session = sessionIdFrom(res);
    expect(session).toBeDefined();
    expect(session).not.toBe(user.sessionId);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: `ls_session=${session}` } })).status).toBe(200);
  });

  it.each(['//evil.example', 'https://evil.example', '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', '/\t/evil.example', ' /account', '', 'account'])(
    'ignores the unsafe return_to %j and goes to /account',
    async (returnTo) => {
      const user = await signUpUser(t.baseUrl);
      const res = await submitForm(t.baseUrl, '/login', { email: user.email, password: user.password, return_to: returnTo }, new CookieJar());
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/account');
    },
  );

  it('re-renders the login form with 401 on bad credentials, keeping the email only', async () => {
    const user = await signUpUser(t.baseUrl);
    const jar = new CookieJar();
    const res = await submitForm(t.baseUrl, '/login', { email: user.email, password: 'not-the-password', return_to: '/oauth/authorize?a=b' }, jar);
    expect(res.status).toBe(401);
    const html = await res.text();
    expect(html).toMatch(/email or password is incorrect/);
    expect(inputValue(html, 'email')).toBe(user.email);
    expect(inputValue(html, 'return_to')).toBe('/oauth/authorize?a=b');
    expect(html).not.toContain('not-the-password');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('ls_session='))).toBe(false);
  });

  it('refuses a login form without _csrf with 403', async () => {
    const user = await signUpUser(t.baseUrl);
    const res = await postForm(t.baseUrl, '/login', { email: user.email, password: user.password }, new CookieJar());
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('ls_session='))).toBe(false);
  });

  it('signs out through the form on /account: 303 to /login and the session is gone', async () => {
    const user = await signUpUser(t.baseUrl);
    const jar = user.jar;
    const account = await getPage(t.baseUrl, '/account', jar);
    expect(account.res.status).toBe(200);
    expect(account.html).toContain('action="/logout"');
    // Without the token nothing happens.
    expect((await postForm(t.baseUrl, '/logout', {}, jar)).status).toBe(403);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(200);

    const res = await postForm(t.baseUrl, '/logout', { _csrf: account.csrf! }, jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
    const after = await fetch(`${t.baseUrl}/account`, { redirect: 'manual', headers: { cookie: user.cookie } });
    expect(after.status).toBe(303);
  });

  it('sends /account without a session to the login page, and / to the right place', async () => {
    const anonymous = await fetch(`${t.baseUrl}/account`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?return_to=/account');
    const home = await fetch(`${t.baseUrl}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login');
    const user = await signUpUser(t.baseUrl);
    const signedIn = await fetch(`${t.baseUrl}/`, { redirect: 'manual', headers: { cookie: user.cookie } });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/account');
  });

  it('shows hostile names escaped on /account', async () => {
    const name = `<script>alert(1)</script> & "quotes" 'too'`;
    const user = await signUpUser(t.baseUrl, { name, region: '<img src=x onerror=alert(2)>' });
    const { res, html } = await getPage(t.baseUrl, '/account', user.jar);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &#39;too&#39;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
  });
});
