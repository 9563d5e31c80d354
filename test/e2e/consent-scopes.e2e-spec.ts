import { signUpUser, TestUser } from '../support/accounts';
import { getPage, submitForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, createClientApp, currentUser, exchangeCode, pkcePair, TokenBody } from '../support/oauth';

/** Scopes at /oauth/authorize: unknown values ignored, a consent covers exactly what was shown, a revoked consent is forgotten. */
describe('Authorization scopes and consent', () => {
  let t: TestApp;
  let app: ClientApp;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
  });
  afterAll(() => t.close());

  const query = (scope: string | undefined, challenge: string) => ({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    state: 'st',
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });

  /** Authorizes with `scope` (consenting when asked) and exchanges the code. */
  async function signIn(user: TestUser, scope: string | undefined): Promise<{ consentShown: boolean; body: TokenBody }> {
    const pkce = pkcePair();
    const { res, consentShown } = await authorizeAs(t.baseUrl, user, query(scope, pkce.challenge));
    const code = callbackParams(res).get('code');
    if (!code) throw new Error(`no code: ${res.headers.get('location')}`);
    const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
    return { consentShown, body };
  }

  /** The scopes the consent page lists, as the hidden field it re-posts. */
  async function consentScope(user: TestUser, scope: string): Promise<string | undefined> {
    const page = await getPage(t.baseUrl, authorizePath(query(scope, pkcePair().challenge)), user.jar);
    expect(page.res.status).toBe(200);
    return /name="scope" value="([^"]*)"/.exec(page.html)?.[1];
  }

  async function refresh(refreshToken: string, scope?: string) {
    const res = await fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        ...(scope ? { scope } : {}),
      }),
    });
    return (await res.json()) as TokenBody;
  }

  it('unknown scope values are ignored: `phone openid` grants openid only', async () => {
    const user = await signUpUser(t.baseUrl);
    const { body } = await signIn(user, 'phone openid');
    expect(body.scope).toBe('openid');
    expect(body.id_token).toBeTruthy();
  });

  it('a scope left empty by that is the default `profile email`', async () => {
    const user = await signUpUser(t.baseUrl);
    expect((await signIn(user, 'phone address')).body.scope).toBe('email profile');
  });

  it('a consent covers exactly the scopes shown: a narrower re-consent does not keep the older, wider one', async () => {
    const user = await signUpUser(t.baseUrl);
    expect((await signIn(user, 'openid profile email')).consentShown).toBe(true);
    expect((await signIn(user, 'profile')).consentShown).toBe(false);
    // New scope, new consent page, which lists only what is asked now.
    expect(await consentScope(user, 'offline_access')).toBe('offline_access');
    const narrower = await signIn(user, 'offline_access');
    expect(narrower.consentShown).toBe(true);
    expect(narrower.body.scope).toBe('offline_access');
    // The earlier profile consent was replaced, not widened: asking for it again asks the user.
    expect((await signIn(user, 'profile')).consentShown).toBe(true);
  });

  it('after the user stops using the app, nothing of the old consent is remembered (tokens, refresh, consent)', async () => {
    const user = await signUpUser(t.baseUrl);
    const before = await signIn(user, 'openid profile email offline_access');
    const connectionId = (await currentUser(t.baseUrl, before.body.access_token)).body.id;
    const path = `/account/apps/${connectionId}`;
    expect((await submitForm(t.baseUrl, path, {}, user.jar, `${path}/revoke`)).status).toBe(303);
    expect((await refresh(before.body.refresh_token!)).error).toBe('invalid_grant');

    // A subset of the old scopes is asked again, and the page shows only the new request.
    expect(await consentScope(user, 'profile offline_access')).toBe('offline_access profile');
    const after = await signIn(user, 'profile offline_access');
    expect(after.consentShown).toBe(true);
    expect(after.body.scope).toBe('offline_access profile');
    expect(after.body.id_token).toBeUndefined();
    const refreshed = await refresh(after.body.refresh_token!);
    expect(refreshed.scope).toBe('offline_access profile');
    expect((await refresh(refreshed.refresh_token!, 'email')).error).toBe('invalid_scope');
    // The old email and openid consent does not come back.
    expect((await signIn(user, 'email')).consentShown).toBe(true);
  });
});
