import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { Browser } from 'playwright-core';
import { signUpUser } from '../support/accounts';
import { launchChromium } from '../support/browser';
import { signUpDeveloper, developerRequest } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizePath, pkcePair } from '../support/oauth';

/**
 * The callback page of a single-page app: after the redirect it exchanges the
 * code at the token endpoint with fetch (client_id only, PKCE), then calls
 * /api/user with the token (a preflighted request), and writes the outcome.
 */
function callbackPage(apiBase: string, clientId: string, verifier: string): string {
  const config = JSON.stringify({ apiBase, clientId, verifier });
  return `<!doctype html><title>SPA</title><pre id="result"></pre><script>
const { apiBase, clientId, verifier } = ${config};
const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value); };
(async () => {
  const here = new URL(location.href);
  try {
    const tokenResponse = await fetch(apiBase + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code: here.searchParams.get('code'), code_verifier: verifier, redirect_uri: here.origin + here.pathname }),
    });
    const token = await tokenResponse.json();
    const userResponse = await fetch(apiBase + '/api/user', { headers: { authorization: 'Bearer ' + token.access_token } });
    const noToken = await fetch(apiBase + '/api/user');
    show({ tokenStatus: tokenResponse.status, userStatus: userResponse.status, user: await userResponse.json(), errorStatus: noToken.status, challenge: noToken.headers.get('www-authenticate') });
  } catch (error) {
    show({ blocked: String(error) });
  }
})();
</script>`;
}

/** The stock client library, served by the SPA's own server as an ES module. */
const OAUTH4WEBAPI_MODULE = readFileSync(require.resolve('oauth4webapi'));

/**
 * The same app written with oauth4webapi: /start sends the browser to the
 * authorization endpoint (PKCE S256, state kept in sessionStorage); /callback
 * checks the answer (state, iss), exchanges the code bound to a fresh DPoP key,
 * calls /api/user with proofs, refreshes with the same key and calls it again.
 */
function oauth4webapiPage(path: string, apiBase: string, clientId: string): string {
  const config = JSON.stringify({ apiBase, clientId });
  return `<!doctype html><title>SPA</title><pre id="result"></pre><script type="module">
import * as oauth from '/oauth4webapi.js';
const { apiBase, clientId } = ${config};
const insecure = { [oauth.allowInsecureRequests]: true };
const client = { client_id: clientId };
const redirectUri = location.origin + '/callback';
const issuer = new URL(apiBase);
const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value); };
const userRequest = (token, DPoP) => oauth.protectedResourceRequest(token, 'GET', new URL(apiBase + '/api/user'), undefined, undefined, { DPoP, ...insecure });
try {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  if (${JSON.stringify(path)} === '/start') {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    sessionStorage.setItem('flow', JSON.stringify({ verifier, state }));
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid offline_access', state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    location.assign(url);
  } else {
    const { verifier, state } = JSON.parse(sessionStorage.getItem('flow'));
    const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, { DPoP, ...insecure }));
    const user = await userRequest(tokens.access_token, DPoP);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token, { DPoP, ...insecure }));
    const refreshedUser = await userRequest(refreshed.access_token, DPoP);
    show({
      tokenType: tokens.token_type, accessToken: tokens.access_token, userStatus: user.status, user: await user.json(),
      refreshedTokenType: refreshed.token_type, refreshedAccessToken: refreshed.access_token, refreshedUserStatus: refreshedUser.status,
      thumbprint: await DPoP.calculateThumbprint(),
    });
  }
} catch (error) {
  show({ failed: String(error), cause: String(error.cause) });
}
</script>`;
}

/** A static server for the single-page app on a loopback port of its own (its own origin). */
async function startSpaServer(page: (path: string) => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://spa').pathname;
    if (path === '/oauth4webapi.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(OAUTH4WEBAPI_MODULE);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(path));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('a single-page app in Chromium talks to LoginSign cross-origin (CORS)', () => {
  let t: TestApp;
  let browser: Browser;
  const servers: Server[] = [];
  const pkce = pkcePair();
  let clientId = '';
  beforeAll(async () => {
    t = await startApi();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
    await t?.close();
  });

  async function signInThrough(origin: string, registeredOrigin: string) {
    const user = await signUpUser(t.baseUrl);
    const context = await browser.newContext();
    try {
      await context.addCookies([{ name: 'ls_session', value: user.sessionId, url: t.baseUrl }]);
      const page = await context.newPage();
      await page.goto(
        `${t.baseUrl}${authorizePath({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: `${registeredOrigin}/callback`,
          state: 'spa-state',
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        })}`,
      );
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((url) => url.pathname === '/callback');
      // The page came from the SPA's server; make it run from `origin` when that differs.
      if (origin !== registeredOrigin) await page.goto(`${origin}/callback${new URL(page.url()).search}`);
      const result = page.locator('#result');
      await result.filter({ hasText: /\S/ }).waitFor();
      return { user, result: JSON.parse(await result.innerText()) as Record<string, unknown> };
    } finally {
      await context.close();
    }
  }

  it('exchanges the code and reads the user from the spa origin; another origin is blocked by the browser', async () => {
    const spa = await startSpaServer(() => callbackPage(t.baseUrl, clientId, pkce.verifier));
    const stranger = await startSpaServer(() => callbackPage(t.baseUrl, clientId, pkce.verifier));
    servers.push(spa.server, stranger.server);
    const dev = await signUpDeveloper(t.baseUrl);
    const created = await developerRequest(t.baseUrl, dev.cookie, 'POST', '/api/developer/applications', { name: 'SPA', type: 'spa', redirectUris: [`${spa.origin}/callback`] });
    expect(created.status).toBe(201);
    clientId = ((await created.json()) as { clientId: string }).clientId;

    const { user, result } = await signInThrough(spa.origin, spa.origin);
    expect(result).toMatchObject({ tokenStatus: 200, userStatus: 200, errorStatus: 401 });
    expect((result.user as { globalId: string }).globalId).toBe(user.globalId);
    // The error answer's WWW-Authenticate is exposed to the script.
    expect(result.challenge).toMatch(/^Bearer /);

    // The same page served from an unregistered origin: the browser refuses to hand over the answer.
    const blocked = await signInThrough(stranger.origin, spa.origin);
    expect(blocked.result.blocked).toMatch(/Failed to fetch/);
  });

  it('oauth4webapi in the page: PKCE, iss check, DPoP-bound tokens, /api/user and a refresh with the same key', async () => {
    const dev = await signUpDeveloper(t.baseUrl);
    let spaClientId = '';
    const spa = await startSpaServer((path) => oauth4webapiPage(path, t.baseUrl, spaClientId));
    servers.push(spa.server);
    const created = await developerRequest(t.baseUrl, dev.cookie, 'POST', '/api/developer/applications', { name: 'SPA', type: 'spa', redirectUris: [`${spa.origin}/callback`] });
    expect(created.status).toBe(201);
    spaClientId = ((await created.json()) as { clientId: string }).clientId;

    const user = await signUpUser(t.baseUrl);
    const context = await browser.newContext();
    try {
      await context.addCookies([{ name: 'ls_session', value: user.sessionId, url: t.baseUrl }]);
      const page = await context.newPage();
      await page.goto(`${spa.origin}/start`);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((url) => url.pathname === '/callback');
      const text = page.locator('#result').filter({ hasText: /\S/ });
      await text.waitFor();
      const result = JSON.parse(await text.innerText()) as Record<string, unknown>;
      expect(result).toMatchObject({ tokenType: 'dpop', userStatus: 200, refreshedTokenType: 'dpop', refreshedUserStatus: 200 });
      expect((result.user as { globalId: string }).globalId).toBe(user.globalId);
      for (const token of [result.accessToken, result.refreshedAccessToken] as string[]) {
        expect(decodeJwt(token).cnf).toEqual({ jkt: result.thumbprint });
        // Without the key the token is worthless: as a Bearer token it is refused.
        expect((await fetch(`${t.baseUrl}/api/user`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      }
    } finally {
      await context.close();
    }
  });
});
