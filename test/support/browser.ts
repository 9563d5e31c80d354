import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { startApi, TestApp } from './harness';
import { ClientApp, createClientApp } from './oauth';

/** Debian's Chromium (scripts/test.js installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves the page as an artifact under test-results/ (ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.resolve(__dirname, '../../test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** A stand-in for a client app's redirect URI: answers every request with a small page. */
export async function startCallbackServer(): Promise<{ url: string; close(): void }> {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Client app callback</h1>'));
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`, close: () => server.close() };
}

/** What a browser suite runs against: the API, a client app whose redirect URI is a local callback server, and Chromium. */
export interface BrowserSuite {
  t: TestApp;
  browser: Browser;
  callback: Awaited<ReturnType<typeof startCallbackServer>>;
  app: ClientApp;
}

/** Registers the suite's beforeAll/afterAll; the returned object is filled in before the first test runs. */
export function browserSuite(): BrowserSuite {
  const suite = {} as BrowserSuite;
  beforeAll(async () => {
    suite.t = await startApi();
    suite.callback = await startCallbackServer();
    suite.app = await createClientApp(suite.t.baseUrl, [suite.callback.url]);
    suite.browser = await launchChromium();
  });
  afterAll(async () => {
    await suite.browser?.close();
    suite.callback?.close();
    await suite.t?.close();
  });
  return suite;
}
