import * as oauth from 'oauth4webapi';
import { DataSource } from 'typeorm';
import { SessionCounts } from '@app/connections';
import { confirmSignUpAddress, signUpUser } from '../support/accounts';
import { getPage } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, codeFor, createClientApp, currentUser, exchangeCode, UserBody } from '../support/oauth';

describe('Sign in with LoginSign, end to end', () => {
  let t: TestApp;
  let app: ClientApp;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl, ['http://127.0.0.1:8765/callback']);
  });
  afterAll(() => t.close());

  /** The connection's row once the session counts pending in Redis are flushed (the worker's step, run here). */
  const sessions = async (connectionId: string) => {
    await t.app.get(SessionCounts).flushAll();
    const [row] = await t.app
      .get(DataSource)
      .query<{ sessions: number; last_session_at: Date | null }[]>('SELECT sessions, last_session_at FROM connections WHERE id = ?', [connectionId]);
    return row;
  };

  it('signs a user in with a third-party OAuth client (oauth4webapi, PKCE, state), then skips consent the second time', async () => {
    const as: oauth.AuthorizationServer = {
      issuer: t.baseUrl,
      authorization_endpoint: `${t.baseUrl}/oauth/authorize`,
      token_endpoint: `${t.baseUrl}/oauth/token`,
    };
    const client: oauth.Client = { client_id: app.clientId };
    const clientAuth = oauth.ClientSecretBasic(app.clientSecret);
    const user = await signUpUser(t.baseUrl);

    const signIn = async () => {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: app.clientId,
        redirect_uri: app.redirectUri,
        scope: 'profile email',
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const { res, consentShown } = await authorizeAs(t.baseUrl, user, Object.fromEntries(url.searchParams), { share: 'relay' });
      expect(res.status).toBe(303);
      const params = oauth.validateAuthResponse(as, client, new URL(res.headers.get('location')!), state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, app.redirectUri, verifier, {
        [oauth.allowInsecureRequests]: true,
      });
      expect(response.headers.get('cache-control')).toBe('no-store');
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
      expect(tokens.token_type).toBe('bearer');
      expect(tokens.expires_in).toBe(3600);
      const profileResponse = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${t.baseUrl}/api/user`), undefined, undefined, {
        [oauth.allowInsecureRequests]: true,
      });
      expect(profileResponse.status).toBe(200);
      return { consentShown, profile: (await profileResponse.json()) as UserBody };
    };

    const first = await signIn();
    expect(first.consentShown).toBe(true);
    expect(Object.keys(first.profile).sort()).toEqual(['email', 'globalId', 'id', 'image', 'name']);
    expect(first.profile.globalId).toBe(user.globalId);
    expect(first.profile.name).toBe(user.name);
    expect(first.profile.image).toBeNull();
    expect(first.profile.email).toMatch(/^[a-z0-9]{6}@loginsign\.com$/);
    expect((await sessions(first.profile.id)).sessions).toBe(1);

    const second = await signIn();
    expect(second.consentShown).toBe(false);
    expect(second.profile).toEqual(first.profile);
    const row = await sessions(first.profile.id);
    expect(row.sessions).toBe(2);
    expect(row.last_session_at).toBeInstanceOf(Date);
  });

  it.each([
    ['relay', (email: string) => expect(email).toMatch(/^[a-z0-9]{6}@loginsign\.com$/)],
    ['address', (email: string, own: string) => expect(email).toBe(own)],
    ['none', (email: string) => expect(email).toBeNull()],
  ])('consent choice %s decides the email /api/user returns', async (choice, check) => {
    const user = await signUpUser(t.baseUrl);
    // Only a confirmed address can be shared: its owner follows the link mailed at sign-up.
    if (choice === 'address') await confirmSignUpAddress(t.baseUrl, user);
    const share = choice === 'address' ? user.email : choice;
    const { code, verifier } = await codeFor(t.baseUrl, app, user, share);
    const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    const { res, body: profile } = await currentUser(t.baseUrl, body.access_token);
    expect(res.status).toBe(200);
    check(profile.email!, user.email);
  });

  it('refuses to share the sign-up address before it is confirmed', async () => {
    const user = await signUpUser(t.baseUrl);
    const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri }, { share: user.email });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('refuses to share an address the user does not own', async () => {
    const user = await signUpUser(t.baseUrl);
    const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri }, { share: 'someone-else@example.com' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('gives each app its own connection id and relay address for the same user', async () => {
    const other = await createClientApp(t.baseUrl, ['http://127.0.0.1:8765/callback']);
    const user = await signUpUser(t.baseUrl);
    const profiles = [];
    for (const client of [app, other]) {
      const { code, verifier } = await codeFor(t.baseUrl, client, user);
      const { body } = await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier });
      profiles.push((await currentUser(t.baseUrl, body.access_token)).body);
    }
    expect(profiles[0].globalId).toBe(profiles[1].globalId);
    expect(profiles[0].id).not.toBe(profiles[1].id);
    expect(profiles[0].email).not.toBe(profiles[1].email);
  });

  it('lets many users give their first consent to one app at the same time', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => signUpUser(t.baseUrl)));
    const results = await Promise.all(
      users.map((user) => authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 'c' })),
    );
    for (const { res, consentShown } of results) {
      expect(consentShown).toBe(true);
      expect(callbackParams(res).get('code')).toBeTruthy();
    }
  });

  it('redirects a visitor without a session to the login page and back', async () => {
    const path = authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 's' });
    const res = await fetch(`${t.baseUrl}${path}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent(path)}`);
  });

  it('answers deny with access_denied and the exact state', async () => {
    const user = await signUpUser(t.baseUrl);
    const state = 'a b&c=d/é';
    const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state }, { decision: 'deny' });
    const params = callbackParams(res);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(state);
    expect(params.get('code')).toBeNull();
  });

  it('refuses a user the developer has blocked, even with remembered consent', async () => {
    const { user } = await codeFor(t.baseUrl, app);
    await t.app.get(DataSource).query('UPDATE connections SET blocked = 1 WHERE user_id = (SELECT user_id FROM user_emails WHERE email = ?)', [user.email]);
    const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 'x' });
    const params = callbackParams(res);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('x');
  });

  it('serves the consent page with CSRF token, frame-ancestors none and escaped app name', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri }), user.jar);
    expect(page.res.status).toBe(200);
    expect(page.csrf).toBeTruthy();
    expect(page.res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.html).toContain('Client &lt;App&gt;');
    expect(page.html).not.toContain('Client <App>');
  });

  it('rejects a consent decision without a valid CSRF token', async () => {
    const user = await signUpUser(t.baseUrl);
    const res = await fetch(`${t.baseUrl}/oauth/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: user.cookie },
      body: new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, decision: 'allow', _csrf: 'forged' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
  });
});
