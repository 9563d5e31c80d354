import Redis from 'ioredis';
import * as oauth from 'oauth4webapi';
import { REDIS, sha256Hex } from '@app/common';
import { signUpUser, TestUser } from '../support/accounts';
import { developerRequest, readJson } from '../support/developer';
import { CookieJar, getPage, inputValue, postForm } from '../support/forms';
import { eventually } from '../support/eventually';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, createClientApp, currentUser } from '../support/oauth';

/** Pushed authorization requests (RFC 9126), driven by a stock client library. */
describe('Pushed authorization requests (POST /oauth/par)', () => {
  let t: TestApp;
  let app: ClientApp;
  let other: ClientApp;
  let as: oauth.AuthorizationServer;
  let redis: Redis;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
    other = await createClientApp(t.baseUrl);
    redis = t.app.get<Redis>(REDIS);
    as = await oauth.processDiscoveryResponse(new URL(t.baseUrl), await oauth.discoveryRequest(new URL(t.baseUrl), { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }));
  });
  afterAll(() => t.close());

  const INSECURE = { [oauth.allowInsecureRequests]: true };
  const clientOf = (a: ClientApp): oauth.Client => ({ client_id: a.clientId });

  /** Pushes a request for `a` (client_secret_basic) and returns its request_uri and PKCE verifier. */
  async function push(a: ClientApp, extra: Record<string, string> = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const res = await oauth.pushedAuthorizationRequest(
      as,
      clientOf(a),
      oauth.ClientSecretBasic(a.clientSecret),
      {
        response_type: 'code',
        redirect_uri: a.redirectUri,
        scope: 'profile email',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...extra,
      },
      INSECURE,
    );
    expect(res.status).toBe(201);
    const pushed = await oauth.processPushedAuthorizationResponse(as, clientOf(a), res);
    return { requestUri: pushed.request_uri, expiresIn: pushed.expires_in, verifier, state };
  }

  /** The authorization URL of a pushed request: client_id and request_uri only. */
  const pushedPath = (a: ClientApp, requestUri: string) => authorizePath({ client_id: a.clientId, request_uri: requestUri });

  async function pushRaw(fields: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(`${t.baseUrl}/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  const validFields = (a: ClientApp) => ({ client_id: a.clientId, client_secret: a.clientSecret, response_type: 'code', redirect_uri: a.redirectUri });

  async function expectUnusable(user: TestUser, path: string) {
    const page = await getPage(t.baseUrl, path, user.jar);
    expect(page.res.status).toBe(400);
    expect(page.res.headers.get('location')).toBeNull();
    expect(page.html).toContain('invalid_request_uri');
  }

  it('discovery lists the endpoint; PAR is not required server-wide', () => {
    expect(as.pushed_authorization_request_endpoint).toBe(`${t.baseUrl}/oauth/par`);
    expect(as.require_pushed_authorization_requests).toBe(false);
  });

  it('push, authorize with request_uri (consent form included), exchange the code: all with oauth4webapi', async () => {
    const { requestUri, expiresIn, verifier, state } = await push(app);
    expect(requestUri).toMatch(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    expect(expiresIn).toBe(60);
    const user = await signUpUser(t.baseUrl);
    const { res, consentShown } = await authorizeAs(t.baseUrl, user, { client_id: app.clientId, request_uri: requestUri });
    expect(consentShown).toBe(true);
    const params = oauth.validateAuthResponse(as, clientOf(app), new URL(res.headers.get('location')!), state);
    const tokenRes = await oauth.authorizationCodeGrantRequest(as, clientOf(app), oauth.ClientSecretBasic(app.clientSecret), params, app.redirectUri, verifier, INSECURE);
    const tokens = await oauth.processAuthorizationCodeResponse(as, clientOf(app), tokenRes);
    expect(tokens.scope).toBe('email profile');
    expect((await currentUser(t.baseUrl, tokens.access_token)).res.status).toBe(200);
    // Used once: the same request_uri again is refused.
    await expectUnusable(user, pushedPath(app, requestUri));
  });

  it('a pushed request survives the way through sign-in and is spent after it', async () => {
    const { requestUri, state } = await push(app);
    const user = await signUpUser(t.baseUrl);
    const signedOut = new CookieJar();
    const start = await getPage(t.baseUrl, pushedPath(app, requestUri), signedOut);
    expect(start.res.headers.get('location')).toMatch(/^\/login\?/);
    const login = await getPage(t.baseUrl, start.res.headers.get('location')!, signedOut);
    const returnTo = inputValue(login.html, 'return_to')!;
    await postForm(t.baseUrl, '/login', { _csrf: login.csrf!, return_to: returnTo, email: user.email, password: user.password }, signedOut);
    const consent = await getPage(t.baseUrl, returnTo, signedOut);
    expect(consent.res.status).toBe(200);
    // The consent form carries the resolved parameters, never the request_uri.
    expect(inputValue(consent.html, 'redirect_uri')).toBe(app.redirectUri);
    expect(inputValue(consent.html, 'state')).toBe(state);
    expect(consent.html).not.toContain(requestUri);
    await expectUnusable(user, pushedPath(app, requestUri));
  });

  it('a request_uri presented with another client_id is refused and stays usable by its own client', async () => {
    const { requestUri } = await push(app);
    const user = await signUpUser(t.baseUrl);
    await expectUnusable(user, pushedPath(other, requestUri));
    const own = await authorizeAs(t.baseUrl, user, { client_id: app.clientId, request_uri: requestUri });
    expect(callbackParams(own.res).get('code')).toBeTruthy();
  });

  it('an expired or unknown request_uri is refused; the stored request lives 60 s at most under a hashed key', async () => {
    const { requestUri } = await push(app);
    const key = `par:${sha256Hex(requestUri)}`;
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await redis.pexpire(key, 1);
    await eventually(async () => (await redis.exists(key)) === 0, 'the pushed request to expire');
    const user = await signUpUser(t.baseUrl);
    await expectUnusable(user, pushedPath(app, requestUri));
    await expectUnusable(user, pushedPath(app, 'urn:ietf:params:oauth:request_uri:made-up'));
  });

  it('checks the pushed parameters like /oauth/authorize, answering JSON errors', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ redirect_uri: 'https://evil.example/cb' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
      [{ prompt: 'bogus' }, 'invalid_request'],
      [{ max_age: '-1' }, 'invalid_request'],
      [{ request_uri: 'urn:ietf:params:oauth:request_uri:abc' }, 'invalid_request'],
    ];
    for (const [extra, error] of cases) {
      const { res, body } = await pushRaw({ ...validFields(app), ...extra });
      expect(res.status).toBe(400);
      expect(body.error).toBe(error);
    }
    const unknownScope = await pushRaw({ ...validFields(app), scope: 'phone' });
    expect(unknownScope.res.status).toBe(201);
  });

  it('authenticates the client as the token endpoint does', async () => {
    const wrong = await pushRaw({ ...validFields(app), client_secret: 'wrong' });
    expect(wrong.res.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const both = await pushRaw(validFields(app), { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` });
    expect(both.body.error).toBe('invalid_request');
    const inQuery = await fetch(`${t.baseUrl}/oauth/par?client_id=${app.clientId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(validFields(app)),
    });
    expect(inQuery.status).toBe(400);
  });

  it('requirePushedAuthorizationRequests: plain requests are redirected with invalid_request (and iss), pushed ones work', async () => {
    const strict = await createClientApp(t.baseUrl);
    const path = `/api/developer/applications/${strict.id}`;
    expect((await readJson(await developerRequest(t.baseUrl, strict.developerCookie, 'GET', path))).requirePushedAuthorizationRequests).toBe(false);
    const patched = await developerRequest(t.baseUrl, strict.developerCookie, 'PATCH', path, { requirePushedAuthorizationRequests: true });
    expect(patched.status).toBe(200);
    expect((await readJson(patched)).requirePushedAuthorizationRequests).toBe(true);
    expect((await readJson(await developerRequest(t.baseUrl, strict.developerCookie, 'GET', path))).requirePushedAuthorizationRequests).toBe(true);
    const bad = await developerRequest(t.baseUrl, strict.developerCookie, 'PATCH', path, { requirePushedAuthorizationRequests: 'yes' });
    expect(bad.status).toBe(400);

    const user = await signUpUser(t.baseUrl);
    const plain = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: strict.clientId, redirect_uri: strict.redirectUri, state: 'st' }), user.jar);
    expect(plain.res.status).toBe(303);
    const refused = callbackParams(plain.res);
    expect(refused.get('error')).toBe('invalid_request');
    expect(refused.get('state')).toBe('st');
    expect(refused.get('iss')).toBe(t.baseUrl);

    const { requestUri } = await push(strict);
    const { res } = await authorizeAs(t.baseUrl, user, { client_id: strict.clientId, request_uri: requestUri });
    expect(callbackParams(res).get('code')).toBeTruthy();
  });

  it('an application can be created requiring pushed requests', async () => {
    const created = await developerRequest(t.baseUrl, app.developerCookie, 'POST', '/api/developer/applications', {
      name: 'Strict',
      redirectUris: ['https://client.example/cb'],
      requirePushedAuthorizationRequests: true,
    });
    expect(created.status).toBe(201);
    expect((await readJson(created)).requirePushedAuthorizationRequests).toBe(true);
  });
});
