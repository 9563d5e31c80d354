import { DataSource } from 'typeorm';
import { Browser, CDPSession, Page } from 'playwright-core';
import { signUpUser, TestUser, USER_COOKIE } from '../support/accounts';
import { launchChromium, screenshot, startCallbackServer } from '../support/browser';
import { CookieJar, getPage } from '../support/forms';
import { mailsTo } from '../support/mailbox';
import { startApi, TestApp } from '../support/harness';
import { authorizePath, ClientApp, createClientApp, exchangeCode, pkcePair } from '../support/oauth';
import { selectRows } from '../support/db';

interface PasskeyRow {
  id: number | string;
  name: string;
  sign_count: number | string;
  attachment: string | null;
  last_used_at: Date | null;
}

/**
 * Passkeys in real Chromium with a CDP virtual authenticator (CTAP2, built in,
 * resident keys, user verification). PUBLIC_URL is http://localhost:<port>:
 * WebAuthn needs a domain name as RP ID.
 */
describe('passkeys in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let callback: Awaited<ReturnType<typeof startCallbackServer>>;
  let app: ClientApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi({}, { publicHost: 'localhost' });
    expect(t.baseUrl).toMatch(/^http:\/\/localhost:\d+$/);
    callback = await startCallbackServer();
    app = await createClientApp(t.baseUrl, [callback.url]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    callback?.close();
    await t?.close();
  });

  async function withAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    return { cdp, authenticatorId };
  }

  /**
   * A browser signed in as `user`. The virtual authenticator answers a
   * conditional (autofill) request by itself as soon as /login loads, so the
   * tests of the "Sign in with a passkey" button turn autofill off (as a
   * browser without conditional mediation would); one test keeps it on.
   */
  async function signedInPage(user: TestUser, autofill = false): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.addCookies([{ name: USER_COOKIE, value: user.sessionId, url: t.baseUrl }]);
    if (!autofill) {
      await context.addInitScript(() => {
        Object.defineProperty((globalThis as unknown as { PublicKeyCredential: object }).PublicKeyCredential, 'isConditionalMediationAvailable', {
          value: () => Promise.resolve(false),
        });
      });
    }
    return context.newPage();
  }

  const passkeys = async (user: TestUser) =>
    selectRows<PasskeyRow>(
      db(),
      'SELECT p.id, p.name, p.sign_count, p.attachment, p.last_used_at FROM user_passkeys p JOIN users u ON u.id = p.user_id WHERE u.global_id = ? ORDER BY p.id',
      [user.globalId],
    );

  async function addPasskey(page: Page, user: TestUser, name: string) {
    await page.goto(`${t.baseUrl}/account/security`);
    await page.locator('#passkey-name').fill(name);
    await page.locator('#passkey-password').fill(user.password);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL((url) => url.search === '?done=passkey-added');
  }

  async function signOut(page: Page) {
    await page.context().clearCookies();
  }

  it('adds a passkey (password again), signs in with it without email or password, reports amr, and removes it', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await signedInPage(user);
    const { cdp, authenticatorId } = await withAuthenticator(page);

    // A wrong password starts nothing.
    await page.goto(`${t.baseUrl}/account/security`);
    await page.locator('#passkey-name').fill('Laptop');
    await page.locator('#passkey-password').fill('not my password');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.locator('#passkey-status').getByText('Your current password is not correct.').waitFor();
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(0);
    expect(await passkeys(user)).toHaveLength(0);

    await addPasskey(page, user, 'My <laptop>');
    await page.getByText('The passkey was added.').waitFor();
    await page.locator('.passkey-name', { hasText: 'My <laptop>' }).waitFor();
    await screenshot(page, 'passkey-added');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].isResidentCredential).toBe(true);
    expect(credentials[0].rpId).toBe('localhost');
    const [stored] = await passkeys(user);
    expect(stored.name).toBe('My <laptop>');
    expect(stored.last_used_at).toBeNull();
    expect((await mailsTo(t.baseUrl, user.email)).some((m) => m.includes('A passkey was added'))).toBe(true);

    // Signed out: "Sign in with a passkey" on /login, back to return_to.
    await signOut(page);
    await page.goto(`${t.baseUrl}/login?return_to=%2Faccount%2Femails`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${t.baseUrl}/account/emails`);
    const cookies = await page.context().cookies(t.baseUrl);
    expect(cookies.some((c) => c.name === USER_COOKIE)).toBe(true);
    const [used] = await passkeys(user);
    expect(used.last_used_at).not.toBeNull();
    expect(Number(used.sign_count)).toBeGreaterThanOrEqual(Number(stored.sign_count));
    await page.goto(`${t.baseUrl}/account/security`);
    await page.locator('.passkey', { hasText: 'My <laptop>' }).getByText('Last used').waitFor();

    // The id_token of this sign-in: a built-in (platform) authenticator that verified the user.
    const pkce = pkcePair();
    await page.goto(
      `${t.baseUrl}${authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, scope: 'openid', state: 's', nonce: 'n', code_challenge: pkce.challenge, code_challenge_method: 'S256' })}`,
    );
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/cb');
    const code = new URL(page.url()).searchParams.get('code')!;
    const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
    const claims = JSON.parse(Buffer.from(body.id_token!.split('.')[1], 'base64url').toString()) as { amr: string[] };
    expect(used.attachment).toBe('platform');
    expect(claims.amr).toEqual(['swk', 'user']);

    // Removing needs the password.
    await page.goto(`${t.baseUrl}/account/security`);
    await page.locator(`#passkey-remove-password-${String(used.id)}`).fill('wrong password');
    await page.getByRole('button', { name: 'Remove My <laptop>' }).click();
    await page.waitForURL((url) => url.search === '?done=passkey-password');
    expect(await passkeys(user)).toHaveLength(1);
    await page.locator(`#passkey-remove-password-${String(used.id)}`).fill(user.password);
    await page.getByRole('button', { name: 'Remove My <laptop>' }).click();
    await page.waitForURL((url) => url.search === '?done=passkey-removed');
    await page.getByText('No passkeys yet.').waitFor();
    expect(await passkeys(user)).toHaveLength(0);
    expect((await mailsTo(t.baseUrl, user.email)).some((m) => m.includes('A passkey was removed'))).toBe(true);

    // The authenticator still holds the credential, but it signs nobody in any more.
    await signOut(page);
    await page.goto(`${t.baseUrl}/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#passkey-status').getByText('The passkey was not accepted.').waitFor();
    expect((await page.context().cookies(t.baseUrl)).some((c) => c.name === USER_COOKIE)).toBe(false);
    await page.context().close();
  });

  it('refuses a replayed assertion and a signature counter that went backwards (a cloned authenticator)', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await signedInPage(user);
    await withAuthenticator(page);
    await addPasskey(page, user, 'Key');
    await signOut(page);

    // Capture the browser's assertion as it goes to the server, then replay it.
    let captured: string | undefined;
    await page.route(`${t.baseUrl}/api/account/passkey-login`, async (route) => {
      captured = route.request().postData() ?? undefined;
      await route.continue();
    });
    await page.goto(`${t.baseUrl}/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${t.baseUrl}/account`);
    expect(captured).toBeDefined();
    const replay = await fetch(`${t.baseUrl}/api/account/passkey-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: captured });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_credentials');
    expect(replay.headers.getSetCookie().some((c) => c.startsWith(`${USER_COOKIE}=`))).toBe(false);

    // The stored counter is ahead of what the authenticator will send: refused.
    await page.unroute(`${t.baseUrl}/api/account/passkey-login`);
    await db().query('UPDATE user_passkeys p JOIN users u ON u.id = p.user_id SET p.sign_count = 1000000 WHERE u.global_id = ?', [user.globalId]);
    await signOut(page);
    await page.goto(`${t.baseUrl}/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#passkey-status').getByText('The passkey was not accepted.').waitFor();
    expect((await page.context().cookies(t.baseUrl)).some((c) => c.name === USER_COOKIE)).toBe(false);
    expect(Number((await passkeys(user))[0].sign_count)).toBe(1000000);
    await page.context().close();
  });

  it('offers passkeys in the email field (conditional mediation) where the browser supports it', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await signedInPage(user, true);
    await withAuthenticator(page);
    await addPasskey(page, user, 'Phone');
    await signOut(page);
    type WithWebAuthn = { PublicKeyCredential: { isConditionalMediationAvailable(): Promise<boolean> } };
    expect(await page.evaluate(() => (globalThis as unknown as WithWebAuthn).PublicKeyCredential.isConditionalMediationAvailable())).toBe(true);
    const login = await getPage(t.baseUrl, '/login', new CookieJar());
    expect(login.html).toMatch(/<input[^>]*id="email"[^>]*autocomplete="email webauthn"/);
    expect(login.html).toContain('<script src="/assets/webauthn.js" defer></script>');
    expect(login.res.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The WebAuthn browser library comes from our own origin, not a CDN.
    const bundle = await fetch(`${t.baseUrl}/assets/webauthn.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await bundle.text()).toContain('SimpleWebAuthnBrowser');
    await page.goto(`${t.baseUrl}/login?return_to=%2Faccount%2Fapps`);
    // The virtual authenticator picks the passkey from the autofill request: signed in without a click.
    await page.waitForURL(`${t.baseUrl}/account/apps`);
    expect((await page.context().cookies(t.baseUrl)).some((c) => c.name === USER_COOKIE)).toBe(true);
    expect((await passkeys(user))[0].last_used_at).not.toBeNull();
    await page.context().close();
  });

  it('bad input: wrong types, missing fields, foreign origins and stale challenges are refused and nothing is written', async () => {
    const user = await signUpUser(t.baseUrl);
    const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: user.cookie, ...headers }, body: JSON.stringify(body) });
    const expectError = async (res: Response, status: number, error: string) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe(error);
      expect(typeof body.error_description).toBe('string');
    };

    // Sign-in.
    await expectError(await json('/api/account/passkey-login', {}), 400, 'invalid_request');
    await expectError(await json('/api/account/passkey-login', { response: 'x' }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkey-login', { response: [1] }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkey-login', { response: {} }), 401, 'invalid_credentials');
    await expectError(await json('/api/account/passkey-login', { response: { id: 'x'.repeat(5000), response: { clientDataJSON: 'e30' } } }), 401, 'invalid_credentials');
    const unknownChallenge = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: 'abc', origin: t.baseUrl })).toString('base64url');
    await expectError(
      await json('/api/account/passkey-login', { response: { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: unknownChallenge } } }),
      401,
      'invalid_credentials',
    );
    await expectError(await json('/api/account/passkey-login', { response: {} }, { origin: 'https://evil.example' }), 403, 'forbidden');
    const options = await json('/api/account/passkey-login/options', {});
    expect(options.status).toBe(200);
    const opts = (await options.json()) as { challenge: string; rpId: string; userVerification: string; allowCredentials?: unknown[] };
    expect(opts.rpId).toBe('localhost');
    expect(opts.userVerification).toBe('preferred');
    expect(opts.allowCredentials ?? []).toEqual([]);
    expect(opts.challenge.length).toBeGreaterThanOrEqual(32);

    // Adding: the session, the password, then a challenge of this user.
    await expectError(await json('/api/account/passkeys/options', { password: user.password }, { cookie: '' }), 401, 'unauthorized');
    await expectError(await json('/api/account/passkeys/options', { password: 'wrong password' }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkeys/options', { password: 12345678 }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkeys/options', {}), 400, 'invalid_request');
    const formBody = await fetch(`${t.baseUrl}/api/account/passkeys/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: user.cookie },
      body: `password=${encodeURIComponent(user.password)}`,
    });
    expect(formBody.status).toBe(403);
    await expectError(await json('/api/account/passkeys', { name: 'Key', response: {} }), 400, 'invalid_request'); // no pending challenge
    const reg = await json('/api/account/passkeys/options', { password: user.password });
    expect(reg.status).toBe(200);
    const regOpts = (await reg.json()) as { rp: { id: string }; authenticatorSelection: { residentKey: string; userVerification: string } };
    expect(regOpts.rp.id).toBe('localhost');
    expect(regOpts.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'preferred' });
    await expectError(await json('/api/account/passkeys', { name: 'x'.repeat(101), response: {} }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkeys', { name: 'Key', response: 'nope' }), 400, 'invalid_request');
    await expectError(await json('/api/account/passkeys', { name: 'Key', response: { id: 'forged', response: {} } }), 400, 'invalid_request');
    // The challenge was used up by the failed attempt.
    await expectError(await json('/api/account/passkeys', { name: 'Key', response: { id: 'forged', response: {} } }), 400, 'invalid_request');
    expect(await passkeys(user)).toHaveLength(0);

    // Removal of something that is not yours.
    const security = await getPage(t.baseUrl, '/account/security', user.jar);
    const remove = await fetch(`${t.baseUrl}/account/security/passkeys/999999/remove`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: user.jar.header() },
      body: new URLSearchParams({ _csrf: security.csrf!, password: user.password }).toString(),
    });
    expect(remove.status).toBe(404);
  });
});
