import * as oauth from 'oauth4webapi';
import { signUpUser } from '../support/accounts';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, codeFor, createClientApp, exchangeCode, pkcePair } from '../support/oauth';

describe('Issuer in the authorization response (RFC 9207) and the revocation answer', () => {
  let t: TestApp;
  let app: ClientApp;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
  });
  afterAll(() => t.close());

  const authorizeParams = (state: string) => {
    const { challenge } = pkcePair();
    return {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope: 'profile email',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
  };

  it('discovery says authorization_response_iss_parameter_supported on both metadata paths', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${t.baseUrl}${path}`);
      const body = (await res.json()) as { issuer: string; authorization_response_iss_parameter_supported?: boolean };
      expect(body.issuer).toBe(t.baseUrl);
      expect(body.authorization_response_iss_parameter_supported).toBe(true);
    }
  });

  it('the code redirect carries iss = the issuer, and oauth4webapi accepts it against the discovered metadata', async () => {
    const as = await oauth.processDiscoveryResponse(
      new URL(t.baseUrl),
      await oauth.discoveryRequest(new URL(t.baseUrl), { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }),
    );
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const client: oauth.Client = { client_id: app.clientId };
    const user = await signUpUser(t.baseUrl);
    const state = oauth.generateRandomState();
    const { res } = await authorizeAs(t.baseUrl, user, authorizeParams(state), { share: 'relay' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('iss')).toBe(t.baseUrl);
    expect(location.searchParams.get('code')).toBeTruthy();
    const params = oauth.validateAuthResponse(as, client, location, state);
    expect(params.get('code')).toBe(location.searchParams.get('code'));

    // A redirect naming another issuer, or none, is refused by the client.
    const forged = new URL(location);
    forged.searchParams.set('iss', 'https://evil.example');
    expect(() => oauth.validateAuthResponse(as, client, forged, state)).toThrow();
    const missing = new URL(location);
    missing.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, client, missing, state)).toThrow();

    // Remembered consent: the redirect without a consent page carries it too.
    const again = await authorizeAs(t.baseUrl, user, authorizeParams('second'));
    expect(again.consentShown).toBe(false);
    expect(callbackParams(again.res).get('iss')).toBe(t.baseUrl);
  });

  it('error redirects carry iss: the user denies, and a request refused after the client is known', async () => {
    const user = await signUpUser(t.baseUrl);
    const { res } = await authorizeAs(t.baseUrl, user, authorizeParams('deny-state'), { decision: 'deny' });
    expect(res.status).toBe(303);
    const denied = callbackParams(res);
    expect(denied.get('error')).toBe('access_denied');
    expect(denied.get('state')).toBe('deny-state');
    expect(denied.get('iss')).toBe(t.baseUrl);

    const as: oauth.AuthorizationServer = { issuer: t.baseUrl, authorization_response_iss_parameter_supported: true };
    const client: oauth.Client = { client_id: app.clientId };
    expect(() => oauth.validateAuthResponse(as, client, new URL(res.headers.get('location')!), 'deny-state')).toThrow(oauth.AuthorizationResponseError);

    const bad = await fetch(`${t.baseUrl}/oauth/authorize?${new URLSearchParams({ ...authorizeParams('bad'), response_type: 'token' }).toString()}`, {
      redirect: 'manual',
    });
    expect(bad.status).toBe(303);
    const refused = callbackParams(bad);
    expect(refused.get('error')).toBeTruthy();
    expect(refused.get('state')).toBe('bad');
    expect(refused.get('iss')).toBe(t.baseUrl);
  });

  it('error pages that are not redirects stay pages (unknown client)', async () => {
    const res = await fetch(`${t.baseUrl}/oauth/authorize?${new URLSearchParams({ ...authorizeParams('x'), client_id: 'nope' }).toString()}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('POST /oauth/revoke answers 200 application/json {} for a known and an unknown token', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const tokens = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(tokens.res.status).toBe(200);
    const basic = `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`;
    for (const token of [tokens.body.access_token, 'not-a-token']) {
      const res = await fetch(`${t.baseUrl}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: new URLSearchParams({ token }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.text()).toBe('{}');
    }
  });
});
