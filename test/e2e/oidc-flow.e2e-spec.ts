import { expect } from '@jest/globals';
import * as client from 'openid-client';
import { DataSource } from 'typeorm';
import { SessionCounts } from '@app/connections';
import { confirmSignUpAddress, signUpUser } from '../support/accounts';
import { getPage, submitForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, createClientApp, currentUser, ErrorBody } from '../support/oauth';
import { developerRequest } from '../support/developer';
import { discoverClient, oidcSignIn } from '../support/oidc';
import { Row } from '../support/db';

describe('OpenID Connect with a certified relying party (openid-client v6)', () => {
  let t: TestApp;
  let app: ClientApp;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl, ['http://127.0.0.1:8765/callback']);
    const patched = await developerRequest(t.baseUrl, app.developerCookie, 'PATCH', `/api/developer/applications/${app.id}`, {
      postLogoutRedirectUris: ['http://127.0.0.1:8765/signed-out'],
    });
    expect(patched.status).toBe(200);
  });
  afterAll(() => t.close());

  it('publishes discovery metadata listing only what is supported', async () => {
    const res = await fetch(`${t.baseUrl}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, unknown> & { scopes_supported: string[]; claims_supported: string[] };
    expect(meta).toMatchObject({
      issuer: t.baseUrl,
      authorization_endpoint: `${t.baseUrl}/oauth/authorize`,
      token_endpoint: `${t.baseUrl}/oauth/token`,
      userinfo_endpoint: `${t.baseUrl}/oauth/userinfo`,
      jwks_uri: `${t.baseUrl}/.well-known/jwks.json`,
      revocation_endpoint: `${t.baseUrl}/oauth/revoke`,
      introspection_endpoint: `${t.baseUrl}/oauth/introspect`,
      end_session_endpoint: `${t.baseUrl}/oauth/logout`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      dpop_signing_alg_values_supported: ['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519'],
    });
    expect([...meta.scopes_supported].sort()).toEqual(['email', 'offline_access', 'openid', 'profile']);
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'global_id', 'email', 'email_verified', 'name', 'picture', 'nonce', 'auth_time']));
    const rfc8414 = await (await fetch(`${t.baseUrl}/.well-known/oauth-authorization-server`)).json();
    expect(rfc8414).toEqual(meta);

    const jwks = (await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of jwks.keys) {
      expect(key).toMatchObject(key.alg === 'RS256' ? { kty: 'RSA', e: 'AQAB', use: 'sig' } : { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(typeof key.kid).toBe('string');
      expect(key.d).toBeUndefined();
    }
  });

  it('signs a user in, reads userinfo, refreshes, introspects, revokes and signs out', async () => {
    const config = await discoverClient(t.baseUrl, app);
    const user = await signUpUser(t.baseUrl);
    const { tokens, nonce, consentShown } = await oidcSignIn(t.baseUrl, config, app, user);
    expect(consentShown).toBe(true);

    // The plain OAuth token fields are unchanged; id_token and refresh_token are added.
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('email offline_access openid profile');
    expect(typeof tokens.refresh_token).toBe('string');
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(t.baseUrl);
    expect(claims.aud).toBe(app.clientId);
    expect(claims.nonce).toBe(nonce);
    expect(typeof claims.auth_time).toBe('number');
    expect(typeof claims.at_hash).toBe('string');
    expect(claims.global_id).toBe(user.globalId);
    expect(claims.name).toBe(user.name);
    expect(claims.email).toMatch(/^[a-z0-9]{6}@loginsign\.com$/);
    expect(claims.email_verified).toBe(true);
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()) as { alg: string; kid: string };
    expect(header.alg).toBe('RS256');
    expect(typeof header.kid).toBe('string');

    // sub is the connection id: the `id` of /api/user.
    const seed = await currentUser(t.baseUrl, tokens.access_token);
    expect(seed.res.status).toBe(200);
    expect(Object.keys(seed.body).sort()).toEqual(['email', 'globalId', 'id', 'image', 'name']);
    expect(claims.sub).toBe(seed.body.id);

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toEqual({ sub: claims.sub, global_id: user.globalId, name: user.name, email: claims.email, email_verified: true });

    const live = await client.tokenIntrospection(config, tokens.access_token);
    expect(live).toMatchObject({ active: true, client_id: app.clientId, sub: claims.sub, scope: 'email offline_access openid profile', token_type: 'Bearer' });
    expect(live.exp! - live.iat!).toBe(3600);
    const liveRefresh = await client.tokenIntrospection(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(liveRefresh).toMatchObject({ active: true, client_id: app.clientId, sub: claims.sub, token_type: 'refresh_token' });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()!.sub).toBe(claims.sub);
    expect(refreshed.claims()!.auth_time).toBe(claims.auth_time);
    expect((await currentUser(t.baseUrl, refreshed.access_token)).res.status).toBe(200);
    // The used refresh token is no longer active; the new one is.
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);
    expect((await client.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(true);

    await client.tokenRevocation(config, refreshed.access_token);
    expect((await currentUser(t.baseUrl, refreshed.access_token)).res.status).toBe(401);
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);

    // Revoking the refresh token kills its family: the first access token too.
    await client.tokenRevocation(config, refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
    expect((await client.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(false);
    expect((await currentUser(t.baseUrl, tokens.access_token)).res.status).toBe(401);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // RP-initiated logout: back to a registered post-logout URI with state, and the LoginSign session is over.
    const state = client.randomState();
    const logoutUrl = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:8765/signed-out', state });
    const out = await fetch(logoutUrl, { redirect: 'manual', headers: { cookie: user.cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe(`http://127.0.0.1:8765/signed-out?state=${state}`);
    const me = await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } });
    expect(me.status).toBe(401);
  });

  it('works with client_secret_post, without offline_access (no refresh token) and without openid (no id_token)', async () => {
    const config = await discoverClient(t.baseUrl, app, 'post');
    const user = await signUpUser(t.baseUrl);
    const { tokens } = await oidcSignIn(t.baseUrl, config, app, user, 'openid email');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.claims()!.name).toBeUndefined();
    expect(tokens.claims()!.email_verified).toBe(true);

    const plain = await oidcSignIn(t.baseUrl, config, app, user, 'profile email');
    expect(plain.tokens.id_token).toBeUndefined();
    expect(Object.keys(plain.tokens).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    // userinfo needs the openid scope.
    const res = await fetch(`${t.baseUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${plain.tokens.access_token}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error).toBe('insufficient_scope');
  });

  it('reports email_verified truthfully and lists offline access on the consent page', async () => {
    const config = await discoverClient(t.baseUrl, app);
    const user = await signUpUser(t.baseUrl);
    // The relay address is verified (LoginSign delivers it); the unconfirmed sign-up address cannot be shared at all.
    const first = await oidcSignIn(t.baseUrl, config, app, user, 'openid email', 'relay');
    expect(first.tokens.claims()!.email).toMatch(/@loginsign\.com$/);
    expect(first.tokens.claims()!.email_verified).toBe(true);
    // Once confirmed through the emailed link, it can be shared and is reported verified.
    await confirmSignUpAddress(t.baseUrl, user);
    const path = `/account/apps/${first.tokens.claims()!.sub}`;
    expect((await submitForm(t.baseUrl, path, { share: user.email }, user.jar, `${path}/email`)).status).toBe(303);
    const { tokens } = await oidcSignIn(t.baseUrl, config, app, user, 'openid email', user.email);
    expect(tokens.claims()!.email).toBe(user.email);
    expect(tokens.claims()!.email_verified).toBe(true);

    const other = await signUpUser(t.baseUrl);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: app.redirectUri,
      scope: 'openid offline_access',
      state: 's',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await getPage(t.baseUrl, `${url.pathname}${url.search}`, other.jar);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Offline access');
  });

  it('counts a sign-in as one session, a refresh as none', async () => {
    const config = await discoverClient(t.baseUrl, app);
    const user = await signUpUser(t.baseUrl);
    const { tokens } = await oidcSignIn(t.baseUrl, config, app, user);
    await client.refreshTokenGrant(config, tokens.refresh_token!);
    // Counted in Redis at the exchange, in MySQL once flushed (the worker's step, run here).
    await t.app.get(SessionCounts).flushAll();
    const [row] = await t.app.get(DataSource).query<Row[]>('SELECT sessions FROM connections WHERE id = ?', [tokens.claims()!.sub]);
    expect(row.sessions).toBe(1);
  });
});
