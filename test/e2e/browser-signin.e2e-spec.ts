import { authorizePath, currentUser, exchangeCode, pkcePair } from '../support/oauth';
import { browserSuite, screenshot } from '../support/browser';

/** A person signs up, consents and signs in again, in real Chromium (no JavaScript needed). */
describe('sign-in in a real browser', () => {
  const suite = browserSuite();

  it('signs up, sees the consent page, hides the email, and signs in again without consent', async () => {
    const { t, browser, app } = suite;
    const page = await browser.newPage();
    const email = `browser-${Date.now()}@example.com`;
    const pkce = pkcePair();
    const authorizeUrl = `${t.baseUrl}${authorizePath({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      state: 'browser-state',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    })}`;

    await page.goto(`${t.baseUrl}/signup`);
    await page.getByLabel('Name').fill('Ada <b>Browser</b>');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a strong password 1');
    await page.getByLabel('Country or region').fill('Germany');
    await page.getByRole('button', { name: /sign up|create/i }).click();
    await page.waitForURL(`${t.baseUrl}/account`);

    await page.goto(authorizeUrl);
    await page.getByText('Hide my email').waitFor();
    await screenshot(page, 'consent');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/cb');
    const first = new URL(page.url()).searchParams;
    expect(first.get('state')).toBe('browser-state');
    const { body: token } = await exchangeCode(t.baseUrl, app, { code: first.get('code')!, code_verifier: pkce.verifier });
    const { body: profile } = await currentUser(t.baseUrl, token.access_token);
    expect(profile.name).toBe('Ada <b>Browser</b>');
    expect(profile.email).toMatch(/^[a-z0-9]{6}@loginsign\.com$/);

    // Sign out, then the authorize link goes through the login page and straight back (consent remembered).
    await page.goto(`${t.baseUrl}/account`);
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto(authorizeUrl);
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a strong password 1');
    // The password form's button (the page also offers "Sign in with a passkey").
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/cb');
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    await screenshot(page, 'signed-in-again');
  });
});
