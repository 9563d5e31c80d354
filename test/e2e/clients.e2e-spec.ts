import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { ApplicationsRepository } from '@app/developer';
import { SigningKeysService } from '@app/oauth';
import { signUpUser, TestUser } from '../support/accounts';
import { developerRequest, signUpDeveloper, TestDeveloper } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, currentUser, ErrorBody, exchangeCode, pkcePair, TokenBody } from '../support/oauth';
import { CookieJar, getPage, postForm } from '../support/forms';

const APPS = '/api/developer/applications';

/** The application object of the portal API, as these tests read it. */
interface AppBody {
  id: string;
  clientId: string;
  clientSecret?: string | null;
  type: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const state = () => randomBytes(8).toString('hex');

describe('Applications of every kind: public clients, RFC 8252 redirect URIs, post-logout URIs, CORS', () => {
  let t: TestApp;
  let dev: TestDeveloper;
  beforeAll(async () => {
    t = await startApi();
    dev = await signUpDeveloper(t.baseUrl);
  });
  afterAll(() => t.close());

  const api = (method: string, path: string, body?: unknown) => developerRequest(t.baseUrl, dev.cookie, method, path, body);
  const create = async (body: Record<string, unknown>) => {
    const res = await api('POST', APPS, { name: 'Kind', ...body });
    if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
    return (await res.json()) as AppBody;
  };
  /** The test helpers' client shape, for web apps (exchangeCode sends the secret). */
  const asClient = (app: AppBody, redirectUri = app.redirectUris[0]): ClientApp => ({
    id: app.id,
    clientId: app.clientId,
    clientSecret: app.clientSecret ?? '',
    redirectUri,
    developerCookie: dev.cookie,
  });
  const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields) });

  /** A code for a fresh user through the authorize page (with PKCE), for a client app; returns the redirect Location too. */
  async function codeFor(app: AppBody, redirectUri = app.redirectUris[0], user?: TestUser) {
    const who = user ?? (await signUpUser(t.baseUrl));
    const pkce = pkcePair();
    const st = state();
    const { res } = await authorizeAs(t.baseUrl, who, {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      state: st,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    const params = new URL(location).searchParams;
    expect(params.get('state')).toBe(st);
    return { code: params.get('code')!, verifier: pkce.verifier, location, user: who };
  }

  describe('types', () => {
    it('creates web (default, with a secret), spa and native (public: clientSecret null) applications', async () => {
      const web = await create({ redirectUris: ['https://web.example/cb'] });
      expect(web.type).toBe('web');
      expect(web.clientSecret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      for (const type of ['spa', 'native']) {
        const app = await create({ type, redirectUris: ['https://public.example/cb'] });
        expect(app).toMatchObject({ type, clientSecret: null, postLogoutRedirectUris: [] });
        const got = (await (await api('GET', `${APPS}/${app.id}`)).json()) as AppBody;
        expect(got.type).toBe(type);
        expect(got).not.toHaveProperty('clientSecret');
      }
      const list = (await (await api('GET', APPS)).json()) as { applications: AppBody[] };
      expect(list.applications.find((a) => a.id === web.id)!.type).toBe('web');
    });

    it('refuses an unknown type, a type change and a secret rotation of a public client (400 invalid_request)', async () => {
      const bogus = await api('POST', APPS, { name: 'X', type: 'daemon', redirectUris: ['https://a.example/cb'] });
      expect(bogus.status).toBe(400);
      expect(((await bogus.json()) as ErrorBody).error).toBe('invalid_request');

      const spa = await create({ type: 'spa', redirectUris: ['https://spa.example/cb'] });
      const web = await create({ redirectUris: ['https://web.example/cb'] });
      for (const [app, type] of [
        [spa, 'web'],
        [spa, 'native'],
        [web, 'spa'],
      ] as const) {
        const res = await api('PATCH', `${APPS}/${app.id}`, { type, name: 'Renamed' });
        expect(res.status).toBe(400);
        expect((await res.json()) as ErrorBody).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('type cannot be changed') });
        expect(((await (await api('GET', `${APPS}/${app.id}`)).json()) as AppBody).type).toBe(app.type);
      }
      // Naming the current type is no change.
      expect((await api('PATCH', `${APPS}/${spa.id}`, { type: 'spa' })).status).toBe(200);

      const rotate = await api('POST', `${APPS}/${spa.id}/client-secret`);
      expect(rotate.status).toBe(400);
      expect(((await rotate.json()) as ErrorBody).error).toBe('invalid_request');
      expect((await api('POST', `${APPS}/${web.id}/client-secret`)).status).toBe(200);
    });

    it('discovery lists the token endpoint authentication method none', async () => {
      const metadata = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
    });
  });

  describe('public clients at the token endpoint', () => {
    it('an spa signs in with a stock library: PKCE, client_id only (oauth4webapi, auth method none)', async () => {
      const spa = await create({ type: 'spa', redirectUris: ['http://127.0.0.1:5173/callback'] });
      const issuer = new URL(t.baseUrl);
      const insecure = { [oauth.allowInsecureRequests]: true };
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
      const oauthClient: oauth.Client = { client_id: spa.clientId };
      const verifier = oauth.generateRandomCodeVerifier();
      const st = oauth.generateRandomState();
      const user = await signUpUser(t.baseUrl);
      const { res } = await authorizeAs(t.baseUrl, user, {
        response_type: 'code',
        client_id: spa.clientId,
        redirect_uri: spa.redirectUris[0],
        scope: 'profile email',
        state: st,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const params = oauth.validateAuthResponse(as, oauthClient, new URL(res.headers.get('location')!), st);
      const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, oauth.None(), params, spa.redirectUris[0], verifier, insecure);
      const tokens = await oauth.processAuthorizationCodeResponse(as, oauthClient, response);
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      const me = await currentUser(t.baseUrl, tokens.access_token);
      expect(me.res.status).toBe(200);
      expect(me.body.globalId).toBe(user.globalId);

      // Revocation takes the public client's client_id alone as well.
      const revoked = await fetch(`${t.baseUrl}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ client_id: spa.clientId, token: tokens.access_token }),
      });
      expect(revoked.status).toBe(200);
      expect((await currentUser(t.baseUrl, tokens.access_token)).res.status).toBe(401);
    });

    describe('a native app with openid-client', () => {
      let native: AppBody;
      let config: client.Configuration;
      beforeAll(async () => {
        native = await create({ type: 'native', redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'com.example.loginsign:/oauth/callback'] });
        config = await client.discovery(new URL(t.baseUrl), native.clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
      });

      async function signInAt(redirectUri: string) {
        const verifier = client.randomPKCECodeVerifier();
        const st = client.randomState();
        const nonce = client.randomNonce();
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid profile offline_access',
          state: st,
          nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        });
        const user = await signUpUser(t.baseUrl);
        const { res } = await authorizeAs(t.baseUrl, user, Object.fromEntries(url.searchParams));
        expect(res.status).toBe(303);
        const location = res.headers.get('location')!;
        expect(location.startsWith(`${redirectUri}?`)).toBe(true);
        const tokens = await client.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: verifier, expectedState: st, expectedNonce: nonce });
        return { tokens, user };
      }

      it('signs in through a loopback redirect on an arbitrary port (registered without one)', async () => {
        for (const host of ['127.0.0.1', '[::1]']) {
          const port = 20000 + Math.floor(Math.random() * 40000);
          const { tokens, user } = await signInAt(`http://${host}:${port}/callback`);
          expect(tokens.claims()!.aud).toBe(native.clientId);
          expect(tokens.refresh_token).toBeDefined();
          expect((await currentUser(t.baseUrl, tokens.access_token)).body.globalId).toBe(user.globalId);
          // The public client refreshes with client_id alone.
          const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
          expect(refreshed.access_token).not.toBe(tokens.access_token);
        }
      });

      it('signs in through a reverse-DNS private-use scheme (the code read from the Location header)', async () => {
        const { tokens } = await signInAt('com.example.loginsign:/oauth/callback');
        expect(tokens.claims()!.aud).toBe(native.clientId);
      });

      it('the code must go back to the very redirect URI (and port) it was issued for', async () => {
        const { code, verifier } = await codeFor(native, 'http://127.0.0.1:41000/callback');
        const other = await tokenRequest({
          grant_type: 'authorization_code',
          client_id: native.clientId,
          code,
          code_verifier: verifier,
          redirect_uri: 'http://127.0.0.1:41001/callback',
        });
        expect(other.status).toBe(400);
        expect(((await other.json()) as ErrorBody).error).toBe('invalid_grant');
      });
    });

    it('refuses an authorization request of a public client without PKCE (redirect with invalid_request and the state)', async () => {
      for (const type of ['spa', 'native']) {
        const app = await create({ type, redirectUris: ['https://public.example/cb'] });
        const user = await signUpUser(t.baseUrl);
        const st = state();
        const page = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUris[0], state: st }), user.jar);
        expect(page.res.status).toBe(303);
        const params = callbackParams(page.res);
        expect(params.get('error')).toBe('invalid_request');
        expect(params.get('error_description')).toContain('PKCE');
        expect(params.get('state')).toBe(st);
        expect(params.get('code')).toBeNull();
      }
      // A web app may still omit PKCE.
      const web = await create({ redirectUris: ['https://web.example/cb'] });
      const user = await signUpUser(t.baseUrl);
      const page = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: web.clientId, redirect_uri: web.redirectUris[0], state: 's' }), user.jar);
      expect(page.res.status).toBe(200);
    });

    it('answers 401 invalid_client to a public client that sends a secret or Basic credentials, and to a web client without its secret', async () => {
      const spa = await create({ type: 'spa', redirectUris: ['https://spa.example/cb'] });
      const { code, verifier } = await codeFor(spa);
      const fields = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: spa.redirectUris[0] };

      const withSecret = await tokenRequest({ ...fields, client_id: spa.clientId, client_secret: 'anything' });
      expect(withSecret.status).toBe(401);
      expect(((await withSecret.json()) as ErrorBody).error).toBe('invalid_client');
      for (const secret of ['anything', '']) {
        const withBasic = await tokenRequest(fields, { authorization: basic(spa.clientId, secret) });
        expect(withBasic.status).toBe(401);
        expect(((await withBasic.json()) as ErrorBody).error).toBe('invalid_client');
        expect(withBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
      }
      // The code was not spent by the refused attempts.
      const ok = await tokenRequest({ ...fields, client_id: spa.clientId });
      expect(ok.status).toBe(200);

      const web = await create({ redirectUris: ['https://web.example/cb'] });
      const webCode = await codeFor(web);
      const noSecret = await tokenRequest({
        grant_type: 'authorization_code',
        client_id: web.clientId,
        code: webCode.code,
        code_verifier: webCode.verifier,
        redirect_uri: web.redirectUris[0],
      });
      expect(noSecret.status).toBe(401);
      expect(((await noSecret.json()) as ErrorBody).error).toBe('invalid_client');
      const unknown = await tokenRequest({ grant_type: 'authorization_code', client_id: `ls_${'a'.repeat(24)}`, code: 'x', redirect_uri: 'https://x.example/cb' });
      expect(unknown.status).toBe(401);
    });
  });

  describe('redirect URI rules (RFC 8252)', () => {
    it.each([
      ['native', 'myapp:/callback', /reverse domain/],
      ['native', 'myapp://callback', /reverse domain/],
      ['web', 'com.example.app:/callback', /only native/],
      ['spa', 'com.example.app:/callback', /only native/],
      ['native', 'http://app.example.com/callback', /https/],
      ['spa', 'http://app.example.com/callback', /https/],
      ['web', 'http://localhost:8080/callback', /loopback/],
    ])('refuses a %s app with %s (400 invalid_request), at create and update', async (type, uri, message) => {
      const created = await api('POST', APPS, { name: 'Bad', type, redirectUris: [uri] });
      expect(created.status).toBe(400);
      const body = (await created.json()) as ErrorBody;
      expect(body.error).toBe('invalid_request');
      expect(body.error_description).toMatch(message);
      const app = await create({ type, redirectUris: ['https://ok.example/cb'] });
      const updated = await api('PATCH', `${APPS}/${app.id}`, { redirectUris: [uri] });
      expect(updated.status).toBe(400);
      const logout = await api('PATCH', `${APPS}/${app.id}`, { postLogoutRedirectUris: [uri] });
      expect(logout.status).toBe(400);
    });

    it('matches a loopback URI on any port only for a native app and only when registered without a port', async () => {
      const native = await create({ type: 'native', redirectUris: ['http://127.0.0.1/cb', 'http://127.0.0.1:7000/fixed'] });
      const spa = await create({ type: 'spa', redirectUris: ['http://127.0.0.1/cb'] });
      const web = await create({ redirectUris: ['http://127.0.0.1/cb'] });
      const user = await signUpUser(t.baseUrl);
      const authorize = (app: AppBody, redirectUri: string) =>
        getPage(
          t.baseUrl,
          authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: redirectUri, code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }),
          user.jar,
        );

      expect((await authorize(native, 'http://127.0.0.1:51234/cb')).res.status).toBe(200);
      expect((await authorize(native, 'http://127.0.0.1:7000/fixed')).res.status).toBe(200);
      for (const [app, uri] of [
        [native, 'http://127.0.0.1:7001/fixed'],
        [native, 'http://127.0.0.1:51234/cb/'],
        [native, 'http://localhost:51234/cb'],
        [spa, 'http://127.0.0.1:51234/cb'],
        [web, 'http://127.0.0.1:51234/cb'],
      ] as const) {
        const page = await authorize(app, uri);
        expect(page.res.status).toBe(400);
        expect(page.res.headers.get('location')).toBeNull();
        expect(page.html).toContain('not registered');
      }
    });
  });

  describe('post-logout redirect URIs', () => {
    let app: AppBody;
    let other: AppBody;
    const bye = 'https://rp.example/bye';
    beforeAll(async () => {
      app = await create({ redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [bye, 'https://rp.example/again'] });
      other = await create({ redirectUris: ['https://other.example/cb'], postLogoutRedirectUris: ['https://other.example/bye'] });
    });
    const logout = (params: Record<string, string>, user?: TestUser) =>
      fetch(`${t.baseUrl}/oauth/logout?${new URLSearchParams(params).toString()}`, { redirect: 'manual', headers: user ? { cookie: user.cookie } : {} });
    const idTokenFor = async (target: AppBody, user?: TestUser) => {
      const { code, verifier, user: who } = await codeFor(target, target.redirectUris[0], user);
      const { body } = await exchangeCode(t.baseUrl, asClient(target), { code, code_verifier: verifier });
      return { idToken: body.id_token!, user: who };
    };

    it('are stored, shown and changed on the application object', async () => {
      expect(app.postLogoutRedirectUris).toEqual([bye, 'https://rp.example/again']);
      const res = await api('PATCH', `${APPS}/${other.id}`, { postLogoutRedirectUris: ['https://other.example/bye', 'https://other.example/later'] });
      expect(res.status).toBe(200);
      expect(((await res.json()) as AppBody).postLogoutRedirectUris).toEqual(['https://other.example/bye', 'https://other.example/later']);
      expect(((await (await api('GET', `${APPS}/${other.id}`)).json()) as AppBody).postLogoutRedirectUris).toEqual(['https://other.example/bye', 'https://other.example/later']);
      const duplicate = await api('PATCH', `${APPS}/${other.id}`, { postLogoutRedirectUris: [bye, bye] });
      expect(duplicate.status).toBe(400);
      const notArray = await api('PATCH', `${APPS}/${other.id}`, { postLogoutRedirectUris: bye });
      expect(notArray.status).toBe(400);
    });

    it('redirects (with state) only to a registered URI and only with an unexpired hint of that application', async () => {
      const { idToken, user } = await idTokenFor(app);
      const ok = await logout({ id_token_hint: idToken, post_logout_redirect_uri: bye, state: 'st-1' }, user);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe(`${bye}?state=st-1`);

      // A redirect URI is not a post-logout URI, nor is a near miss.
      for (const target of [app.redirectUris[0], `${bye}/`, 'https://rp.example/BYE', 'https://evil.example/bye']) {
        const res = await logout({ id_token_hint: idToken, post_logout_redirect_uri: target, state: 'x' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      }

      // Another application's valid hint does not open this application's URIs.
      const { idToken: otherHint } = await idTokenFor(other);
      const foreign = await logout({ id_token_hint: otherHint, post_logout_redirect_uri: bye });
      expect(foreign.status).toBe(400);
      expect(foreign.headers.get('location')).toBeNull();
    });

    it('an expired hint signs the user out but redirects nowhere', async () => {
      const { idToken, user } = await idTokenFor(app);
      const claims = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()) as { sub: string };
      const key = await t.app.get(SigningKeysService).activeKey();
      const past = Math.floor(Date.now() / 1000) - 7200;
      const expired = await new SignJWT({ sub: claims.sub, aud: app.clientId, iss: t.baseUrl, iat: past, exp: past + 3600 })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
      const res = await logout({ id_token_hint: expired, post_logout_redirect_uri: bye, state: 's' }, user);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('signed out');
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
    });
  });

  describe('Developer Portal pages', () => {
    const jar = () => new CookieJar().set('ls_dev', dev.sessionId);

    it('the new-application form offers the three types with a line each, and creates a public client without a secret', async () => {
      const developer = jar();
      const page = await getPage(t.baseUrl, '/developer/apps/new', developer);
      expect(page.res.status).toBe(200);
      for (const type of ['web', 'spa', 'native']) expect(page.html).toContain(`name="type" value="${type}"`);
      expect(page.html).toContain('Single-page app');
      expect(page.html).toContain('keeps a client secret');
      const res = await postForm(
        t.baseUrl,
        '/developer/apps',
        {
          _csrf: page.csrf!,
          type: 'native',
          name: 'Desk',
          redirectUris: 'com.example.desk:/cb\nhttp://127.0.0.1/cb',
          postLogoutRedirectUris: 'com.example.desk:/bye',
          webhookUrl: '',
          logoUrl: '',
        },
        developer,
      );
      expect(res.status).toBe(303);
      const appId = /apps\/(app_[a-z0-9]+)\/credentials/.exec(res.headers.get('location')!)![1];
      const credentials = await getPage(t.baseUrl, res.headers.get('location')!, developer);
      expect(credentials.html).not.toContain('id="client-secret"');
      expect(credentials.html).toContain('public client');
      const stored = (await (await api('GET', `${APPS}/${appId}`)).json()) as AppBody;
      expect(stored).toMatchObject({ type: 'native', redirectUris: ['com.example.desk:/cb', 'http://127.0.0.1/cb'], postLogoutRedirectUris: ['com.example.desk:/bye'] });
      const settings = await getPage(t.baseUrl, `/developer/apps/${appId}`, developer);
      expect(settings.html).toContain('Native app');
      expect(settings.html).not.toContain('Rotate client secret');

      // A private-use scheme on a web app: the form shows the error.
      const bad = await postForm(
        t.baseUrl,
        '/developer/apps',
        { _csrf: page.csrf!, type: 'web', name: 'Bad', redirectUris: 'com.example.desk:/cb', webhookUrl: '', logoUrl: '' },
        developer,
      );
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('only native applications');
    });

    it('the Integrate page shows the snippet for the application type', async () => {
      const developer = jar();
      const expectations: [string, string[], string[]][] = [
        ['web', ['snippet-node', 'ClientSecretBasic', 'LOGINSIGN_CLIENT_SECRET'], ['snippet-spa', 'snippet-native']],
        ['spa', ['snippet-spa', 'oauth.None()', 'sessionStorage', 'DPoP', 'code_challenge_method'], ['snippet-node', 'LOGINSIGN_CLIENT_SECRET']],
        ['native', ['snippet-native', 'client.None()', 'com.example.int:/cb', '127.0.0.1', 'calculatePKCECodeChallenge'], ['snippet-node', 'LOGINSIGN_CLIENT_SECRET']],
      ];
      for (const [type, present, absent] of expectations) {
        const app = await create({ type, redirectUris: type === 'native' ? ['http://127.0.0.1/cb', 'com.example.int:/cb'] : ['https://int.example/cb'] });
        const page = await getPage(t.baseUrl, `/developer/apps/${app.id}/integrate`, developer);
        expect(page.res.status).toBe(200);
        for (const text of present) expect(page.html).toContain(text);
        for (const text of absent) expect(page.html).not.toContain(text);
      }
    });
  });

  describe('CORS', () => {
    let spa: AppBody;
    let spaOrigin: string;
    const unregistered = 'https://evil.example';
    beforeAll(async () => {
      spa = await create({ type: 'spa', redirectUris: ['http://127.0.0.1:5199/app/callback', 'https://spa.example/callback'] });
      spaOrigin = 'http://127.0.0.1:5199';
    });
    const preflight = (path: string, origin: string, method = 'POST') =>
      fetch(`${t.baseUrl}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type, dpop' },
      });

    it('answers preflights from an spa origin on the token, revocation, userinfo and /api/user endpoints', async () => {
      for (const [path, method, allowed] of [
        ['/oauth/token', 'POST', 'POST'],
        ['/oauth/revoke', 'POST', 'POST'],
        ['/oauth/userinfo', 'GET', 'GET, POST'],
        ['/api/user', 'GET', 'GET'],
      ]) {
        for (const origin of [spaOrigin, 'https://spa.example']) {
          const res = await preflight(path, origin, method);
          expect(res.status).toBe(204);
          expect(res.headers.get('access-control-allow-origin')).toBe(origin);
          expect(res.headers.get('access-control-allow-methods')).toBe(allowed);
          expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type, dpop');
          expect(res.headers.get('access-control-max-age')).toBe('600');
          expect(res.headers.get('access-control-allow-credentials')).toBeNull();
          expect(res.headers.get('vary')).toContain('Origin');
        }
      }
    });

    it('answers requests from an spa origin, error answers included, and exposes WWW-Authenticate and DPoP-Nonce', async () => {
      const { code, verifier } = await codeFor(spa);
      const token = await tokenRequest(
        { grant_type: 'authorization_code', client_id: spa.clientId, code, code_verifier: verifier, redirect_uri: spa.redirectUris[0] },
        { origin: spaOrigin },
      );
      expect(token.status).toBe(200);
      expect(token.headers.get('access-control-allow-origin')).toBe(spaOrigin);
      expect(token.headers.get('vary')).toContain('Origin');
      const { access_token } = (await token.json()) as TokenBody;

      const user = await fetch(`${t.baseUrl}/api/user`, { headers: { origin: spaOrigin, authorization: `Bearer ${access_token}` } });
      expect(user.status).toBe(200);
      expect(user.headers.get('access-control-allow-origin')).toBe(spaOrigin);

      const badGrant = await tokenRequest({ grant_type: 'authorization_code', client_id: spa.clientId, code: 'nope', redirect_uri: spa.redirectUris[0] }, { origin: spaOrigin });
      expect(badGrant.status).toBe(400);
      expect(badGrant.headers.get('access-control-allow-origin')).toBe(spaOrigin);
      const noToken = await fetch(`${t.baseUrl}/api/user`, { headers: { origin: spaOrigin } });
      expect(noToken.status).toBe(401);
      expect(noToken.headers.get('access-control-allow-origin')).toBe(spaOrigin);
      expect(noToken.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, DPoP-Nonce');
      for (const method of ['GET', 'POST']) {
        const userinfo = await fetch(`${t.baseUrl}/oauth/userinfo`, { method, headers: { origin: spaOrigin, authorization: 'Bearer nope' } });
        expect(userinfo.status).toBe(401);
        expect(userinfo.headers.get('access-control-allow-origin')).toBe(spaOrigin);
      }
    });

    it('sends no CORS headers to an unregistered origin or a web app origin, nor on cookie-authenticated endpoints', async () => {
      const web = await create({ redirectUris: ['https://web-origin.example/cb'] });
      for (const origin of [unregistered, 'https://web-origin.example', 'null', `${spaOrigin}0`]) {
        const pre = await preflight('/oauth/token', origin);
        expect(pre.headers.get('access-control-allow-origin')).toBeNull();
        expect(pre.headers.get('access-control-allow-methods')).toBeNull();
        const res = await fetch(`${t.baseUrl}/api/user`, { headers: { origin } });
        expect(res.status).toBe(401);
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        expect(res.headers.get('vary')).toContain('Origin');
      }
      expect(web.type).toBe('web');
      for (const path of ['/api/developer/me', '/api/account/me']) {
        const me = await fetch(`${t.baseUrl}${path}`, { headers: { origin: spaOrigin, cookie: dev.cookie } });
        expect(me.headers.get('access-control-allow-origin')).toBeNull();
        const pre = await preflight(path, spaOrigin, 'GET');
        expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      }
    });

    it('discovery and JWKS allow every origin', async () => {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
        const res = await fetch(`${t.baseUrl}${path}`, { headers: { origin: unregistered } });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
      }
    });

    it('follows changes of spa applications at once, without a query per request', async () => {
      const repository = t.app.get(ApplicationsRepository);
      const loads = jest.spyOn(repository, 'spaRedirectUris');
      try {
        const origin = `http://127.0.0.1:${30000 + Math.floor(Math.random() * 20000)}`;
        expect((await preflight('/oauth/token', origin)).headers.get('access-control-allow-origin')).toBeNull();
        const app = await create({ type: 'spa', redirectUris: [`${origin}/cb`] });
        expect((await preflight('/oauth/token', origin)).headers.get('access-control-allow-origin')).toBe(origin);

        loads.mockClear();
        for (let i = 0; i < 20; i += 1) await fetch(`${t.baseUrl}/api/user`, { headers: { origin } });
        expect(loads).toHaveBeenCalledTimes(0);

        const moved = `http://127.0.0.1:${Number(new URL(origin).port) + 1}`;
        expect((await api('PATCH', `${APPS}/${app.id}`, { redirectUris: [`${moved}/cb`] })).status).toBe(200);
        expect((await preflight('/oauth/token', origin)).headers.get('access-control-allow-origin')).toBeNull();
        expect((await preflight('/oauth/token', moved)).headers.get('access-control-allow-origin')).toBe(moved);
        expect(loads).toHaveBeenCalledTimes(1);

        expect((await api('DELETE', `${APPS}/${app.id}`)).status).toBe(204);
        expect((await preflight('/oauth/token', moved)).headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        loads.mockRestore();
      }
    });
  });
});
