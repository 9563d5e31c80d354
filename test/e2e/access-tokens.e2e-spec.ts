import { expect } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { TokensService } from '@app/oauth';
import { startApi, TestApp } from '../support/harness';
import { signUpUser } from '../support/accounts';
import { authorizeAs, callbackParams, ClientApp, createClientApp, currentUser, ErrorBody, exchangeCode, pkcePair, TokenBody } from '../support/oauth';

/** Access tokens per RFC 9068: claims, offline verification, and revocation that still acts on the next request. */
describe('Access tokens (RFC 9068 JWTs)', () => {
  let t: TestApp;
  let app: ClientApp;

  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A new user's tokens for `scope`. */
  async function tokens(scope = 'profile email'): Promise<TokenBody> {
    const pkce = pkcePair();
    const { res } = await authorizeAs(t.baseUrl, await signUpUser(t.baseUrl), {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope,
      state: 's',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const exchanged = await exchangeCode(t.baseUrl, app, { code: callbackParams(res).get('code')!, code_verifier: pkce.verifier });
    expect(exchanged.res.status).toBe(200);
    return exchanged.body;
  }

  const clientPost = (path: string, fields: Record<string, string>) =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, ...fields }),
    });
  const introspect = async (token: string) => (await (await clientPost('/oauth/introspect', { token })).json()) as { active: boolean; [claim: string]: unknown };
  const userinfo = (token: string) => fetch(`${t.baseUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });

  it('are JWTs with typ at+jwt and the RFC 9068 claims, nothing personal', async () => {
    const body = await tokens();
    expect(body.token_type).toBe('Bearer');
    const header = decodeProtectedHeader(body.access_token);
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(body.access_token);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    const me = await currentUser(t.baseUrl, body.access_token);
    expect(claims).toMatchObject({ iss: t.baseUrl, sub: me.body.id, aud: t.baseUrl, client_id: app.clientId, scope: 'email profile' });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(typeof claims.jti).toBe('string');
    expect((await tokens()).access_token.split('.')[1]).not.toBe(body.access_token.split('.')[1]);
  });

  it('verify offline against the JWKS: jose, and oauth4webapi validateJwtAccessToken', async () => {
    const body = await tokens();
    const keys = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
    const verified = await jwtVerify(body.access_token, keys, { issuer: t.baseUrl, audience: t.baseUrl, typ: 'at+jwt', algorithms: ['RS256'] });
    expect(verified.payload.client_id).toBe(app.clientId);

    const as = await oauth.processDiscoveryResponse(
      new URL(t.baseUrl),
      await oauth.discoveryRequest(new URL(t.baseUrl), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
    );
    const request = new Request('https://resource.example/api', { headers: { authorization: `Bearer ${body.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, t.baseUrl, { [oauth.allowInsecureRequests]: true });
    expect(claims).toMatchObject({ iss: t.baseUrl, aud: t.baseUrl, client_id: app.clientId, scope: 'email profile', sub: verified.payload.sub });
    // Another audience is refused: the token is for the LoginSign API.
    await expect(oauth.validateJwtAccessToken(as, request, 'https://resource.example', { [oauth.allowInsecureRequests]: true })).rejects.toThrow();
  });

  it('refuses what is not our access token: an id_token, a foreign key, a bare or tampered token', async () => {
    const body = await tokens('openid profile');
    const claims = decodeJwt(body.access_token);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = decodeProtectedHeader(body.access_token).kid!;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey);
    const embedded = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk: await exportJWK(publicKey) }).sign(privateKey);
    const [h, p] = body.access_token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${p}.`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'profile email openid' })).toString('base64url')}.${body.access_token.split('.')[2]}`;
    for (const bad of [body.id_token!, foreign, embedded, none, tampered, `${h}.${p}.`, `${body.access_token}x`]) {
      const res = await currentUser(t.baseUrl, bad);
      expect([bad, res.res.status, res.body.error]).toEqual([bad, 401, 'invalid_token']);
      expect(await introspect(bad)).toEqual({ active: false });
    }
    expect((await currentUser(t.baseUrl, body.access_token)).res.status).toBe(200);
  });

  it('revocation, blocking and deletion act at /api/user, userinfo and introspection on the very next request', async () => {
    const live = async (token: string) => [(await currentUser(t.baseUrl, token)).res.status, (await userinfo(token)).status, (await introspect(token)).active];
    const signedIn = async () => {
      const body = await tokens('openid profile');
      expect(await live(body.access_token)).toEqual([200, 200, true]);
      return { token: body.access_token, connectionId: decodeJwt(body.access_token).sub! };
    };
    const portal = (method: string, connectionId: string, body?: unknown) =>
      fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users/${connectionId}`, {
        method,
        headers: { cookie: app.developerCookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });

    const revoked = await signedIn();
    expect((await clientPost('/oauth/revoke', { token: revoked.token })).status).toBe(200);
    expect(await live(revoked.token)).toEqual([401, 401, false]);

    const blocked = await signedIn();
    expect((await portal('PATCH', blocked.connectionId, { blocked: true })).status).toBe(200);
    expect(await live(blocked.token)).toEqual([401, 401, false]);

    const deleted = await signedIn();
    expect((await portal('DELETE', deleted.connectionId)).status).toBe(204);
    expect(await live(deleted.token)).toEqual([401, 401, false]);
  });

  it('introspection of a live token: the RFC 7662 fields, token_type Bearer', async () => {
    const body = await tokens();
    const claims = decodeJwt(body.access_token);
    expect(await introspect(body.access_token)).toEqual({
      active: true,
      scope: 'email profile',
      client_id: app.clientId,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      token_type: 'Bearer',
      iss: t.baseUrl,
    });
  });

  it('checks a signature once per process: verified claims come from the cache afterwards', async () => {
    const body = await tokens();
    const service = t.app.get(TokensService);
    const first = await service.verifyClaims(body.access_token);
    expect(first).toMatchObject({ client_id: app.clientId });
    // The same object again: no second verification.
    expect(await service.verifyClaims(body.access_token)).toBe(first);
    const error = (await (await fetch(`${t.baseUrl}/api/user`, { headers: { authorization: 'Bearer x' } })).json()) as ErrorBody;
    expect(error.error).toBe('invalid_token');
  });
});
