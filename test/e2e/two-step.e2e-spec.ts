import { DataSource } from 'typeorm';
import { signUpUser, TestUser, USER_COOKIE } from '../support/accounts';
import { CookieJar, getPage, postForm } from '../support/forms';
import { mailsTo } from '../support/mailbox';
import { recoveryCodesIn, totp, totpSecretIn, wrongCode } from '../support/two-step';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, createClientApp, exchangeCode, pkcePair } from '../support/oauth';
import { countRows, selectRows } from '../support/db';

function loginJson(baseUrl: string, body: unknown) {
  return fetch(`${baseUrl}/api/account/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function decodeIdToken(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}

const hasSessionCookie = (res: Response) => res.headers.getSetCookie().some((c) => c.startsWith(`${USER_COOKIE}=`) && !c.startsWith(`${USER_COOKIE}=;`));

describe('Two-step sign-in (TOTP and recovery codes)', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' });
  });
  afterAll(() => t.close());

  /** GET /account/security, then POST the set-up form with `password`. */
  async function startSetup(user: TestUser, password = user.password) {
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    expect(page.res.status).toBe(200);
    return postForm(t.baseUrl, '/account/security/two-step/setup', { _csrf: page.csrf!, password }, user.jar);
  }

  /** Turns two-step sign-in on; returns the secret (as the page shows it) and the recovery codes. */
  async function enable(user: TestUser): Promise<{ secret: string; codes: string[]; setupCode: string }> {
    const res = await startSetup(user);
    expect(res.status).toBe(200);
    const html = await res.text();
    const secret = totpSecretIn(html);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const setupCode = totp(secret);
    const confirmed = await postForm(t.baseUrl, '/account/security/two-step/confirm', { _csrf: csrf, code: setupCode }, user.jar);
    expect(confirmed.status).toBe(200);
    const codes = recoveryCodesIn(await confirmed.text());
    return { secret, codes, setupCode };
  }

  const totpRows = (userId: number) => countRows(db(), 'SELECT COUNT(*) AS n FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL', [userId]);
  async function userId(user: TestUser): Promise<number> {
    const [row] = await selectRows<{ id: number }>(db(), 'SELECT id FROM users WHERE global_id = ?', [user.globalId]);
    return Number(row.id);
  }

  it('sets up an authenticator app: password again, QR code inline, a code to confirm, then 10 recovery codes shown once and stored hashed', async () => {
    const user = await signUpUser(t.baseUrl);
    const id = await userId(user);
    const security = await getPage(t.baseUrl, '/account/security', user.jar);
    expect(security.html).toContain('Set up an authenticator app');

    // Wrong password: nothing is created.
    const wrong = await startSetup(user, 'not the password');
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('current password is not correct');
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_totp WHERE user_id = ?', [id])).toBe(0);

    const res = await startSetup(user);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const secret = totpSecretIn(html);
    expect(secret.length).toBe(32); // 160 bits in base32
    // The QR code is an SVG in the page itself: no image from elsewhere, no script.
    expect(html).toMatch(/<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(html).not.toMatch(/<img|<script/);
    // Stored encrypted, and still off until confirmed.
    const [row] = await selectRows<{ secret_enc: string; confirmed_at: Date | null }>(db(), 'SELECT secret_enc, confirmed_at FROM user_totp WHERE user_id = ?', [id]);
    expect(row.secret_enc).not.toContain(secret);
    expect(row.confirmed_at).toBeNull();
    expect((await loginJson(t.baseUrl, { email: user.email, password: user.password })).status).toBe(200);

    // A wrong code keeps the set-up page (same secret) and turns nothing on.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    const bad = await postForm(t.baseUrl, '/account/security/two-step/confirm', { _csrf: csrf, code: wrongCode(secret) }, user.jar);
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('The code is not correct');
    expect(badHtml).toContain(`<code id="totp-secret">${secret}</code>`);
    expect(await totpRows(id)).toBe(0);
    for (const junk of ['', 'abcdef', '1'.repeat(5000)]) {
      const r = await postForm(t.baseUrl, '/account/security/two-step/confirm', { _csrf: csrf, code: junk }, user.jar);
      expect(r.status).toBe(400);
    }
    expect(await totpRows(id)).toBe(0);

    const ok = await postForm(t.baseUrl, '/account/security/two-step/confirm', { _csrf: csrf, code: totp(secret) }, user.jar);
    expect(ok.status).toBe(200);
    const codes = recoveryCodesIn(await ok.text());
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(await totpRows(id)).toBe(1);
    const hashes = await selectRows<{ code_hash: string }>(db(), 'SELECT code_hash FROM user_recovery_codes WHERE user_id = ?', [id]);
    expect(hashes).toHaveLength(10);
    for (const { code_hash } of hashes) for (const code of codes) expect(code_hash).not.toContain(code.replace('-', ''));

    // Shown once: the security page now says "on" and lists no codes; set-up again is refused.
    const after = await getPage(t.baseUrl, '/account/security', user.jar);
    expect(after.html).toContain('Turn off two-step sign-in');
    expect(after.html).toContain('Recovery codes left: 10');
    expect(after.html).not.toContain(codes[0]);
    const again = await startSetup(user);
    expect(again.status).toBe(409);

    const notices = await mailsTo(t.baseUrl, user.email);
    expect(notices.some((m) => m.includes('Two-step sign-in was turned on'))).toBe(true);
  });

  it('JSON login: missing code -> mfa_required, wrong -> invalid_credentials, a code works once, recovery codes work once', async () => {
    const user = await signUpUser(t.baseUrl);
    const { secret, codes, setupCode } = await enable(user);

    const missing = await loginJson(t.baseUrl, { email: user.email, password: user.password });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toBe('mfa_required');
    expect(hasSessionCookie(missing)).toBe(false);
    const empty = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: '' });
    expect(((await empty.json()) as { error: string }).error).toBe('mfa_required');

    // A wrong password with a right code is still just invalid_credentials (no hint that two-step is on).
    const wrongPassword = await loginJson(t.baseUrl, { email: user.email, password: 'wrong password!', otp: totp(secret, 1) });
    expect(wrongPassword.status).toBe(401);
    expect(((await wrongPassword.json()) as { error: string }).error).toBe('invalid_credentials');

    const wrong = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: wrongCode(secret) });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_credentials');
    expect(hasSessionCookie(wrong)).toBe(false);

    // The code that confirmed the set-up cannot be replayed (its step is used).
    const replayOfSetup = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: setupCode });
    expect(replayOfSetup.status).toBe(401);

    const next = totp(secret, 1);
    const ok = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: next });
    expect(ok.status).toBe(200);
    expect(hasSessionCookie(ok)).toBe(true);
    const replay = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: next });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_credentials');

    // A recovery code (typed in upper case, without the dash) works once.
    const typed = codes[0].replace('-', '').toUpperCase();
    expect((await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: typed })).status).toBe(200);
    const reused = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: codes[0] });
    expect(reused.status).toBe(401);
    expect(((await reused.json()) as { error: string }).error).toBe('invalid_credentials');
    expect((await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: codes[1] })).status).toBe(200);
    const security = await getPage(t.baseUrl, '/account/security', user.jar);
    expect(security.html).toContain('Recovery codes left: 8');
  });

  it('JSON login: bad otp input is 400 invalid_request and signs nobody in', async () => {
    const user = await signUpUser(t.baseUrl);
    await enable(user);
    for (const otp of [123456, ['123456'], { code: '123456' }, true, 'x'.repeat(65)]) {
      const res = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_request');
      expect(typeof body.error_description).toBe('string');
      expect(hasSessionCookie(res)).toBe(false);
    }
  });

  it('wrong codes are throttled like wrong passwords (429 once the window is full, even with the right code)', async () => {
    const user = await signUpUser(t.baseUrl);
    const { secret } = await enable(user);
    for (let i = 0; i < 5; i++) {
      const res = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: wrongCode(secret) });
      expect(res.status).toBe(401);
    }
    const limited = await loginJson(t.baseUrl, { email: user.email, password: user.password, otp: totp(secret, 1) });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: string }).error).toBe('rate_limited');
    // The right password alone did not clear the window either.
    const pw = await loginJson(t.baseUrl, { email: user.email, password: user.password });
    expect(pw.status).toBe(429);
  });

  it('/login asks for the code on a second step; the session starts only after it', async () => {
    const user = await signUpUser(t.baseUrl);
    const { secret, codes } = await enable(user);
    const jar = new CookieJar();

    // Without a pending login, the second step sends the browser to /login.
    const none = await getPage(t.baseUrl, '/login/two-step', jar);
    expect(none.res.status).toBe(303);
    expect(none.res.headers.get('location')).toBe('/login');

    const login = await getPage(t.baseUrl, '/login?return_to=%2Faccount%2Femails', jar);
    const step1 = await postForm(t.baseUrl, '/login', { _csrf: login.csrf!, return_to: '/account/emails', email: user.email, password: user.password }, jar);
    expect(step1.status).toBe(303);
    expect(step1.headers.get('location')).toBe('/login/two-step');
    expect(hasSessionCookie(step1)).toBe(false);
    expect(jar.get(USER_COOKIE)).toBeUndefined();

    const form = await getPage(t.baseUrl, '/login/two-step', jar);
    expect(form.res.status).toBe(200);
    expect(form.html).toContain('autocomplete="one-time-code"');

    // Another browser (no pending cookie) cannot finish this login.
    const stranger = new CookieJar();
    const strangerPage = await getPage(t.baseUrl, '/login', stranger);
    const hijack = await postForm(t.baseUrl, '/login/two-step', { _csrf: strangerPage.csrf!, code: totp(secret, 1) }, stranger);
    expect(hijack.status).toBe(303);
    expect(hijack.headers.get('location')).toBe('/login');
    expect(stranger.get(USER_COOKIE)).toBeUndefined();

    const wrong = await postForm(t.baseUrl, '/login/two-step', { _csrf: form.csrf!, code: wrongCode(secret) }, jar);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('The code is not correct');
    expect(jar.get(USER_COOKIE)).toBeUndefined();

    const ok = await postForm(t.baseUrl, '/login/two-step', { _csrf: form.csrf!, code: codes[3] }, jar);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/account/emails');
    expect(jar.get(USER_COOKIE)).toBeDefined();
    const me = await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: jar.header() } });
    expect(me.status).toBe(200);

    // The pending login is used up.
    const again = await postForm(t.baseUrl, '/login/two-step', { _csrf: form.csrf!, code: codes[4] }, jar);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/login');
  });

  it('turning it off needs the password and a code', async () => {
    const user = await signUpUser(t.baseUrl);
    const { secret, codes } = await enable(user);
    const id = await userId(user);
    const submit = async (fields: Record<string, string>) => {
      const page = await getPage(t.baseUrl, '/account/security', user.jar);
      return postForm(t.baseUrl, '/account/security/two-step/disable', { _csrf: page.csrf!, ...fields }, user.jar);
    };
    expect((await submit({ password: 'wrong password!', code: totp(secret, 1) })).status).toBe(400);
    expect(await totpRows(id)).toBe(1);
    expect((await submit({ password: user.password, code: '12' })).status).toBe(400);
    expect((await submit({ password: user.password })).status).toBe(400);
    expect(await totpRows(id)).toBe(1);
    const off = await submit({ password: user.password, code: codes[9] });
    expect(off.status).toBe(303);
    expect(off.headers.get('location')).toBe('/account/security?done=two-step-off');
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_totp WHERE user_id = ?', [id])).toBe(0);
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM user_recovery_codes WHERE user_id = ?', [id])).toBe(0);
    expect((await loginJson(t.baseUrl, { email: user.email, password: user.password })).status).toBe(200);
    expect((await mailsTo(t.baseUrl, user.email)).some((m) => m.includes('Two-step sign-in was turned off'))).toBe(true);
  });

  describe('amr and auth_time in id_tokens', () => {
    let app: ClientApp;
    beforeAll(async () => {
      app = await createClientApp(t.baseUrl);
    });

    async function idTokenFor(jar: CookieJar, scope = 'openid profile'): Promise<Record<string, unknown> & { refreshToken?: string }> {
      const pkce = pkcePair();
      const user = { jar } as TestUser;
      const { res } = await authorizeAs(t.baseUrl, user, {
        response_type: 'code',
        client_id: app.clientId,
        redirect_uri: app.redirectUri,
        state: 's',
        scope,
        nonce: 'n',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      });
      const code = callbackParams(res).get('code')!;
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
      return { ...decodeIdToken(body.id_token!), refreshToken: body.refresh_token };
    }

    async function pageLogin(user: TestUser, code?: string): Promise<CookieJar> {
      const jar = new CookieJar();
      const login = await getPage(t.baseUrl, '/login', jar);
      const step1 = await postForm(t.baseUrl, '/login', { _csrf: login.csrf!, return_to: '/account', email: user.email, password: user.password }, jar);
      expect(step1.status).toBe(303);
      if (code !== undefined) {
        const form = await getPage(t.baseUrl, '/login/two-step', jar);
        expect((await postForm(t.baseUrl, '/login/two-step', { _csrf: form.csrf!, code }, jar)).status).toBe(303);
      }
      expect(jar.get(USER_COOKIE)).toBeDefined();
      return jar;
    }

    it('pwd after a password; pwd, otp and mfa after a TOTP or recovery code; auth_time is the sign-in', async () => {
      const plain = await signUpUser(t.baseUrl);
      const before = Math.floor(Date.now() / 1000);
      const claims = await idTokenFor(await pageLogin(plain));
      expect(claims.amr).toEqual(['pwd']);
      expect(claims.auth_time).toBeGreaterThanOrEqual(before);
      expect(claims.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));

      const strong = await signUpUser(t.baseUrl);
      const { secret, codes } = await enable(strong);
      expect((await idTokenFor(await pageLogin(strong, totp(secret, 1)))).amr).toEqual(['pwd', 'otp', 'mfa']);
      expect((await idTokenFor(await pageLogin(strong, codes[0]))).amr).toEqual(['pwd', 'otp', 'mfa']);

      // The JSON login records the same.
      const res = await loginJson(t.baseUrl, { email: strong.email, password: strong.password, otp: codes[1] });
      expect(res.status).toBe(200);
      const jar = new CookieJar().store(res);
      const first = await idTokenFor(jar, 'openid profile offline_access');
      expect(first.amr).toEqual(['pwd', 'otp', 'mfa']);

      // A refreshed id_token reports the same sign-in: auth_time and amr unchanged.
      const refreshed = await fetch(`${t.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refreshToken!, client_id: app.clientId, client_secret: app.clientSecret }),
      });
      expect(refreshed.status).toBe(200);
      const again = decodeIdToken(((await refreshed.json()) as { id_token: string }).id_token);
      expect(again.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(again.auth_time).toBe(first.auth_time);
    });
  });
});
