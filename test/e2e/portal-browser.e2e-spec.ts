import { Browser, Page } from 'playwright-core';
import { startApi, TestApp } from '../support/harness';
import { launchChromium, screenshot } from '../support/browser';
import { startWorker, WorkerProcess } from '../support/worker';
import { payloadOf, Receiver, startReceiver } from '../support/receiver';
import { signUpUser } from '../support/accounts';
import { ClientApp, codeFor, exchangeCode } from '../support/oauth';

const REDIRECT_URI = 'https://portal-browser.example/cb';

/** A developer uses the Developer Portal in real Chromium, with a real worker delivering webhooks. */
describe('Developer Portal in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let worker: WorkerProcess;
  let receiver: Receiver;

  beforeAll(async () => {
    t = await startApi({ WEBHOOK_BACKOFF_MS: '200' });
    receiver = await startReceiver();
    worker = await startWorker(t.env);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await receiver?.close();
    await t?.close();
  });

  const receivedTypes = () => receiver.received.map((hook) => payloadOf(hook).type);

  function userRow(page: Page, globalId: string) {
    return page.locator('#users-table tbody tr', { hasText: globalId });
  }

  it('signs up, creates an app (secret once), manages a signed-in user and sees the webhooks delivered', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const email = `portal-browser-${Date.now()}@example.com`;

    // Sign up as a developer.
    await page.goto(`${t.baseUrl}/developer/signup`);
    await page.getByLabel('Name').fill('Grace Developer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a developer password');
    await page.getByRole('button', { name: 'Create developer account' }).click();
    await page.waitForURL(`${t.baseUrl}/developer/apps`);
    await page.getByText('No applications yet.').waitFor();

    // Create an application; the secrets are shown once, with a copy button.
    await page.getByRole('link', { name: 'New application' }).click();
    await page.getByLabel('Application name').fill('Browser Demo');
    await page.getByLabel('Redirect URIs').fill(REDIRECT_URI);
    await page.getByLabel('Webhook URL').fill(receiver.url);
    await page.keyboard.press('Tab');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.waitForURL(/\/developer\/apps\/app_[a-z0-9]{20}\/credentials$/);
    const appId = /\/developer\/apps\/(app_[a-z0-9]{20})\//.exec(page.url())![1];
    await page.getByText('shown only this once').waitFor();
    const clientSecret = (await page.locator('#client-secret').textContent())!;
    const clientId = (await page.locator('#client-id').textContent())!;
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await page.locator('#webhook-secret').textContent())!).toMatch(/^whsec_/);
    expect(await page.locator('button.copy[data-copy="client-secret"]').isVisible()).toBe(true); // the script ran
    await screenshot(page, 'portal-secret-once');
    // Shown once: reloading lands on the settings page without it.
    await page.reload();
    await page.waitForURL(`${t.baseUrl}/developer/apps/${appId}`);
    expect(await page.content()).not.toContain(clientSecret);
    await screenshot(page, 'portal-settings');

    // A user signs in to the app (consent, code, token).
    const client: ClientApp = { id: appId, clientId, clientSecret, redirectUri: REDIRECT_URI, developerCookie: '' };
    const user = await signUpUser(t.baseUrl, { name: 'Ada Lovelace', region: 'United Kingdom' });
    const { code, verifier } = await codeFor(t.baseUrl, client, user);
    expect((await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier })).res.status).toBe(200);
    await signUpUser(t.baseUrl, { name: 'Other Person' }).then((other) => codeFor(t.baseUrl, client, other));

    // The developer sees both users, searches for one.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.waitForURL(`${t.baseUrl}/developer/apps/${appId}/users`);
    await page.getByText('2 users').waitFor();
    expect(await userRow(page, user.globalId).count()).toBe(1);
    await page.getByLabel('Search').fill(user.globalId);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('search') === user.globalId);
    await page.getByText('1 user match').waitFor();
    const row = userRow(page, user.globalId);
    await row.getByText('Ada Lovelace').waitFor();
    await row.getByText('United Kingdom').waitFor();

    // Block, then unblock (keyboard: focus the button and press Enter).
    await row.getByRole('button', { name: /^Block Ada Lovelace/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('User blocked').waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe(user.globalId);
    await userRow(page, user.globalId).getByText('blocked', { exact: true }).waitFor();
    await screenshot(page, 'portal-users-blocked');
    await userRow(page, user.globalId)
      .getByRole('button', { name: /^Unblock Ada Lovelace/ })
      .click();
    await page.getByText('User unblocked.').waitFor();

    // Close the account, through its confirmation page.
    await userRow(page, user.globalId)
      .getByRole('link', { name: /^Manage Ada Lovelace/ })
      .click();
    await page.getByRole('heading', { name: 'Ada Lovelace' }).waitFor();
    await screenshot(page, 'portal-user-detail');
    await page.getByRole('link', { name: 'Close account…' }).click();
    await page.getByRole('heading', { name: /Close the account of Ada Lovelace/ }).waitFor();
    await page.getByRole('button', { name: 'Close account' }).click();
    await page.getByText('Account closed.').waitFor();
    await page.getByText('No users match.').waitFor();

    // The phone-width users page stays usable (table scrolls inside its box).
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${t.baseUrl}/developer/apps/${appId}/users`);
    await phone.getByText('1 user').waitFor();
    const overflow = await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow as number).toBeLessThanOrEqual(0);
    await screenshot(phone, 'portal-users-phone');
    await phone.close();

    // The worker delivered every event to the receiver; the deliveries log shows them.
    const expected = ['user_connected', 'user_blocked', 'user_unblocked', 'user_account_deleted'];
    await receiver.waitFor(() => expected.every((type) => receivedTypes().includes(type)), 30_000);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${t.baseUrl}/developer/apps/${appId}/webhooks`);
    await page.locator('#endpoint-status').getByText('enabled').waitFor();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const delivered = await page.locator('#deliveries-table tbody tr', { hasText: 'delivered' }).count();
      if (delivered >= 5) break; // two user_connected, blocked, unblocked, account_deleted
      if (Date.now() > deadline) throw new Error(`only ${delivered} deliveries marked delivered`);
      await page.waitForTimeout(300);
      await page.reload();
    }
    for (const type of expected) await page.locator('#deliveries-table').getByText(type, { exact: true }).first().waitFor();

    // Send a test ping; it reaches the receiver and the log.
    await page.getByRole('button', { name: 'Send test ping' }).click();
    await page.getByText('Test ping queued').waitFor();
    await receiver.waitFor(() => receivedTypes().includes('ping'));
    await page.reload();
    await page.locator('#deliveries-table').getByText('ping', { exact: true }).waitFor();

    // One delivery in detail, with its attempts.
    await page.locator('#deliveries-table').getByRole('link', { name: 'user_account_deleted', exact: true }).click();
    await page.locator('#attempts-table').getByText('HTTP 200').first().waitFor();
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByText('Queued for redelivery.').waitFor();
    await receiver.waitFor(() => receivedTypes().filter((type) => type === 'user_account_deleted').length >= 2);

    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${t.baseUrl}/developer/apps/${appId}/webhooks`);
    await screenshot(page, 'portal-deliveries');
    await page.close();
  }, 120_000);

  it('shows the Integrate page with copyable endpoints and snippets', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${t.baseUrl}/developer/signup`);
    await page.getByLabel('Name').fill('Integrator');
    await page.getByLabel('Email').fill(`integrator-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('a developer password');
    await page.getByRole('button', { name: 'Create developer account' }).click();
    await page.waitForURL(`${t.baseUrl}/developer/apps`);
    await page.getByRole('link', { name: 'New application' }).click();
    await page.getByLabel('Application name').fill('Integrated App');
    await page.getByLabel('Redirect URIs').fill('http://127.0.0.1:4000/callback');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('link', { name: 'Next: integrate' }).click();
    await page.locator('#int-authorize').getByText(`${t.baseUrl}/oauth/authorize`).waitFor();
    expect(await page.locator('#snippet-node').textContent()).toContain("import * as oauth from 'oauth4webapi';");
    expect(await page.locator('button.copy[data-copy="snippet-node"]').isVisible()).toBe(true);
    await screenshot(page, 'portal-integrate');
    await page.close();
  });
});
