import { DataSource } from 'typeorm';
import { authorizePath, currentUser, exchangeCode, pkcePair } from '../support/oauth';
import { browserSuite, screenshot } from '../support/browser';
import { Row } from '../support/db';

/** The account center in real Chromium, with the keyboard and mouse only (no JavaScript on our pages). */
describe('account center in a real browser', () => {
  const suite = browserSuite();

  it('signs up, signs in to an app hiding the email, turns forwarding off and stops using the app', async () => {
    const { t, browser, app } = suite;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const email = `center-${Date.now()}@example.com`;
    const pkce = pkcePair();

    await page.goto(`${t.baseUrl}/signup`);
    await page.getByLabel('Name').fill('Ada <script>alert(1)</script>');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a strong password 1');
    await page.getByLabel('Country or region').fill('Germany');
    await page.getByRole('button', { name: /create/i }).click();
    await page.waitForURL(`${t.baseUrl}/account`);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    // Sign in to the client app: consent page, hide my email.
    await page.goto(
      `${t.baseUrl}${authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 's1', code_challenge: pkce.challenge, code_challenge_method: 'S256' })}`,
    );
    await page.getByLabel(/Hide my email/).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/cb');
    const code = new URL(page.url()).searchParams.get('code')!;
    const { body: token } = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
    const { body: profile } = await currentUser(t.baseUrl, token.access_token);
    expect(profile.email).toMatch(/^[a-z0-9]{6}@loginsign\.com$/);

    // The account center: Apps tab -> the app -> forwarding off (keyboard) -> stop using it (mouse).
    await page.goto(`${t.baseUrl}/account`);
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.waitForURL(`${t.baseUrl}/account/apps`);
    await page.getByText(profile.email!).waitFor();
    await page.getByRole('link', { name: /^Manage / }).click();
    await page.waitForURL((url) => url.pathname === `/account/apps/${profile.id}`);

    await page.getByRole('button', { name: 'Turn forwarding off' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.search === '?done=forwarding-off');
    await page.getByText('Email forwarding is off.').waitFor();
    expect(await page.locator('#forwarding-state').textContent()).toBe('Off');

    await page.getByRole('button', { name: 'Stop using LoginSign with this app' }).click();
    await page.waitForURL((url) => url.search === '?done=revoked');
    await page.getByText('You stopped using LoginSign with this app. It was told').waitFor();
    expect(await page.getByRole('button', { name: 'Stop using LoginSign with this app' }).count()).toBe(0);
    await screenshot(page, 'account-center-revoked');

    // The app's token is dead; the connection is off and inactive.
    expect((await currentUser(t.baseUrl, token.access_token)).res.status).toBe(401);
    const [row] = await t.app.get(DataSource).query<Row[]>('SELECT is_forwarding, active FROM connections WHERE id = ?', [profile.id]);
    expect(row).toEqual({ is_forwarding: 0, active: 0 });
    await page.close();
  });
});
