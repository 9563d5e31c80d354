import { expect } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, CryptoKey, decodeJwt, exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { signUpUser } from '../support/accounts';
import { freePort } from '../support/api-process';
import { developerRequest } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, createClientApp, ErrorBody, exchangeCode, pkcePair, TokenBody } from '../support/oauth';

type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

interface ProofClaims {
  htm: string;
  htu: string;
  iat?: number;
  jti?: string;
  ath?: string;
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof as RFC 9449 4.2 describes it; `header` overrides members of the JOSE header. */
async function proof(keys: KeyPair, claims: ProofClaims, header: Record<string, unknown> = {}, alg = 'ES256'): Promise<string> {
  const payload = { jti: randomBytes(16).toString('base64url'), iat: Math.floor(Date.now() / 1000), ...claims };
  return new SignJWT(payload).setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: await exportJWK(keys.publicKey), ...header }).sign(keys.privateKey);
}

/** DPoP (RFC 9449): bound tokens at the token endpoint, /api/user and userinfo; every proof check. */
describe('DPoP', () => {
  let t: TestApp;
  let app: ClientApp;
  let as: oauth.AuthorizationServer;
  let client: oauth.Client;
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
    as = await oauth.processDiscoveryResponse(new URL(t.baseUrl), await oauth.discoveryRequest(new URL(t.baseUrl), { algorithm: 'oidc', ...insecure }));
    client = { client_id: app.clientId };
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A new user's authorization code (openid, offline_access) as oauth4webapi validates it from the redirect. */
  async function code(target = { client, redirectUri: app.redirectUri }): Promise<{ params: URLSearchParams; verifier: string }> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const { res } = await authorizeAs(t.baseUrl, await signUpUser(t.baseUrl), {
      response_type: 'code',
      client_id: target.client.client_id,
      redirect_uri: target.redirectUri,
      scope: 'openid profile offline_access',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { params: oauth.validateAuthResponse(as, target.client, new URL(res.headers.get('location')!), state), verifier };
  }

  /** DPoP-bound tokens through oauth4webapi's DPoP handle. */
  async function boundTokens(keys: KeyPair) {
    const DPoP = oauth.DPoP(client, keys);
    const { params, verifier } = await code();
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(app.clientSecret), params, app.redirectUri, verifier, { DPoP, ...insecure });
    return { DPoP, tokens: await oauth.processAuthorizationCodeResponse(as, client, response) };
  }

  const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> | [string, string][] = {}) =>
    fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: [['content-type', 'application/x-www-form-urlencoded'], ...(Array.isArray(headers) ? headers : Object.entries(headers))],
      body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, ...fields }),
    });
  const refreshRequest = (refreshToken: string, headers: Record<string, string> | [string, string][] = {}) =>
    tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }, headers);
  const resource = (path: string, token: string, dpop?: string, scheme = 'DPoP', method = 'GET') =>
    fetch(`${t.baseUrl}${path}`, { method, headers: { authorization: `${scheme} ${token}`, ...(dpop ? { dpop } : {}) } });
  const errorOf = async (res: Response) => {
    const body = (await res.json()) as ErrorBody;
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    return { status: res.status, error: body.error, challenge: res.headers.get('www-authenticate') };
  };
  const badProofAtResource = { status: 401, error: 'invalid_dpop_proof', challenge: expect.stringMatching(/^DPoP .*error="invalid_dpop_proof"/) };

  it('discovery lists the proof algorithms', async () => {
    const meta = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as { dpop_signing_alg_values_supported: string[] };
    expect(meta.dpop_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519']);
  });

  it('oauth4webapi: token request and protected resource requests with a DPoP handle; cnf.jkt; refresh and introspection', async () => {
    const keys = await oauth.generateKeyPair('ES256');
    const { DPoP, tokens } = await boundTokens(keys);
    expect(tokens.token_type).toBe('dpop');
    const jkt = await DPoP.calculateThumbprint();
    expect(decodeJwt(tokens.access_token)).toMatchObject({ cnf: { jkt }, client_id: app.clientId });

    const user = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${t.baseUrl}/api/user`), undefined, undefined, { DPoP, ...insecure });
    expect(user.status).toBe(200);
    const info = await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { sub: string }).sub).toBe(decodeJwt(tokens.access_token).sub);

    const introspection = (await (await tokenRequestTo('/oauth/introspect', { token: tokens.access_token })).json()) as Record<string, unknown>;
    expect(introspection).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(app.clientSecret), tokens.refresh_token!, { DPoP, ...insecure }),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });

    // Offline, a resource server checks the token and the proof together.
    const url = 'https://api.example/resource';
    const request = new Request(url, {
      headers: { authorization: `DPoP ${refreshed.access_token}`, dpop: await proof(keys, { htm: 'GET', htu: url, ath: ath(refreshed.access_token) }) },
    });
    const claims = await oauth.validateJwtAccessToken(as, request, t.baseUrl, { requireDPoP: true, ...insecure });
    expect(claims.cnf).toEqual({ jkt });
  });

  const tokenRequestTo = (path: string, fields: Record<string, string>) =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, ...fields }),
    });

  it('a bound token is refused as Bearer; an unbound token is refused with the DPoP scheme', async () => {
    const keys = await generateKeyPair('ES256');
    const { tokens } = await boundTokens(keys);
    for (const path of ['/api/user', '/oauth/userinfo']) {
      expect(await errorOf(await resource(path, tokens.access_token, undefined, 'Bearer'))).toEqual({
        status: 401,
        error: 'invalid_token',
        challenge: expect.stringMatching(/^Bearer .*error="invalid_token"/),
      });
    }

    const pkce = pkcePair();
    const { res } = await authorizeAs(t.baseUrl, await signUpUser(t.baseUrl), {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope: 'openid',
      state: 's',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const bearer: TokenBody = (await exchangeCode(t.baseUrl, app, { code: callbackParams(res).get('code')!, code_verifier: pkce.verifier })).body;
    expect(bearer.token_type).toBe('Bearer');
    for (const path of ['/api/user', '/oauth/userinfo']) {
      const dpop = await proof(keys, { htm: 'GET', htu: `${t.baseUrl}${path}`, ath: ath(bearer.access_token) });
      expect(await errorOf(await resource(path, bearer.access_token, dpop))).toEqual({
        status: 401,
        error: 'invalid_token',
        challenge: expect.stringMatching(/^DPoP .*error="invalid_token"/),
      });
    }
    // The bound token with a proof of another key is refused too.
    const other = await generateKeyPair('ES256');
    const foreign = await proof(other, { htm: 'GET', htu: `${t.baseUrl}/api/user`, ath: ath(tokens.access_token) });
    expect((await errorOf(await resource('/api/user', tokens.access_token, foreign))).error).toBe('invalid_token');
  });

  it('refuses a replayed proof, a proof for another URL or method, a missing or wrong ath, an old or future iat', async () => {
    const keys = await generateKeyPair('ES256');
    const { tokens } = await boundTokens(keys);
    const token = tokens.access_token;
    const url = `${t.baseUrl}/api/user`;
    const now = Math.floor(Date.now() / 1000);

    const once = await proof(keys, { htm: 'GET', htu: url, ath: ath(token) });
    expect((await resource('/api/user', token, once)).status).toBe(200);
    expect(await errorOf(await resource('/api/user', token, once))).toEqual(badProofAtResource);
    // The query string is not part of htu.
    expect((await resource('/api/user?x=1', token, await proof(keys, { htm: 'GET', htu: url, ath: ath(token) }))).status).toBe(200);

    const refused = [
      await proof(keys, { htm: 'GET', htu: `${t.baseUrl}/oauth/userinfo`, ath: ath(token) }),
      await proof(keys, { htm: 'GET', htu: 'https://elsewhere.example/api/user', ath: ath(token) }),
      await proof(keys, { htm: 'POST', htu: url, ath: ath(token) }),
      await proof(keys, { htm: 'GET', htu: url }),
      await proof(keys, { htm: 'GET', htu: url, ath: ath(`${token}x`) }),
      await proof(keys, { htm: 'GET', htu: url, ath: ath(token), iat: now - 120 }),
      await proof(keys, { htm: 'GET', htu: url, ath: ath(token), iat: now + 120 }),
    ];
    for (const dpop of refused) expect(await errorOf(await resource('/api/user', token, dpop))).toEqual(badProofAtResource);
    // No proof at all with the DPoP scheme.
    expect(await errorOf(await resource('/api/user', token))).toEqual(badProofAtResource);

    // At the token endpoint: a replay, another URL, another method -> 400 invalid_dpop_proof.
    const tokenUrl = `${t.baseUrl}/oauth/token`;
    const fresh = await proof(keys, { htm: 'POST', htu: tokenUrl });
    expect((await refreshRequest(tokens.refresh_token!, { dpop: fresh })).status).toBe(200);
    for (const dpop of [fresh, await proof(keys, { htm: 'POST', htu: url }), await proof(keys, { htm: 'GET', htu: tokenUrl })]) {
      expect(await errorOf(await refreshRequest('unused-refresh-token-of-twenty-chars', { dpop }))).toEqual({ status: 400, error: 'invalid_dpop_proof', challenge: null });
    }
  });

  it('bad input: garbage, two DPoP headers, a private key, a wrong typ or alg, an unsigned proof -> 400 invalid_dpop_proof, never 500', async () => {
    const keys = await generateKeyPair('ES256');
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const htu = `${t.baseUrl}/oauth/token`;
    const claims = { htm: 'POST', htu };
    const good = () => proof(keys, claims);
    const privateJwk = await exportJWK(rsa.privateKey);
    const [h, p] = (await good()).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'none' })).toString('base64url')}.${p}.`;
    const symmetric = await new SignJWT({ ...claims, jti: 'j', iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } as JWK })
      .sign(new TextEncoder().encode('secret-secret-secret-secret-secret'));
    const bad: (string | [string, string][])[] = [
      'garbage',
      'a.b.c',
      '',
      'x'.repeat(10_000),
      [
        ['dpop', await good()],
        ['dpop', await good()],
      ],
      await proof(rsa, claims, { jwk: privateJwk }, 'RS256'),
      await proof(keys, claims, { typ: 'JWT' }),
      await proof(keys, claims, { jwk: undefined }),
      await proof(keys, claims, { jwk: await exportJWK(rsa.publicKey) }),
      await proof(keys, { ...claims, jti: '' }),
      unsigned,
      symmetric,
    ];
    for (const dpop of bad) {
      const headers: [string, string][] = Array.isArray(dpop) ? dpop : [['dpop', dpop]];
      const res = await refreshRequest('unused-refresh-token-of-twenty-chars', headers);
      expect([headers[0][1].slice(0, 30), await errorOf(res)]).toEqual([headers[0][1].slice(0, 30), { status: 400, error: 'invalid_dpop_proof', challenge: null }]);
    }
    // RS256 and Ed25519 proofs (oauth4webapi names the alg Ed25519) are accepted like ES256 ones.
    for (const alg of ['RS256', 'Ed25519']) {
      const pair = await generateKeyPair(alg);
      const { tokens } = await boundTokens(pair);
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(pair.publicKey)) });
    }
  });

  it('a confidential client’s refresh token is not bound: a proof of another key moves it to that key', async () => {
    const keys = await generateKeyPair('ES256');
    const { tokens } = await boundTokens(keys);
    const other = await generateKeyPair('ES256');
    const moved = await refreshRequest(tokens.refresh_token!, { dpop: await proof(other, { htm: 'POST', htu: `${t.baseUrl}/oauth/token` }) });
    const movedBody = (await moved.json()) as TokenBody;
    expect(moved.status).toBe(200);
    expect(movedBody.token_type).toBe('DPoP');
    expect(decodeJwt(movedBody.access_token).cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(other.publicKey)) });
    // And without a proof it refreshes to a Bearer token.
    const plain = await refreshRequest(movedBody.refresh_token!);
    expect(plain.status).toBe(200);
    expect(((await plain.json()) as TokenBody).token_type).toBe('Bearer');
  });

  it('a public (spa) client’s refresh tokens are bound to the DPoP key of its code exchange', async () => {
    const redirectUri = `http://127.0.0.1:${await freePort()}/cb`;
    const created = await developerRequest(t.baseUrl, app.developerCookie, 'POST', '/api/developer/applications', { name: 'SPA', type: 'spa', redirectUris: [redirectUri] });
    expect(created.status).toBe(201);
    const spa: oauth.Client = { client_id: ((await created.json()) as { clientId: string }).clientId };
    const keys = await generateKeyPair('ES256');
    const DPoP = oauth.DPoP(spa, keys);
    const { params, verifier } = await code({ client: spa, redirectUri });
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      spa,
      await oauth.authorizationCodeGrantRequest(as, spa, oauth.None(), params, redirectUri, verifier, { DPoP, ...insecure }),
    );
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const htu = `${t.baseUrl}/oauth/token`;
    const refresh = (refreshToken: string, headers: Record<string, string> = {}) =>
      fetch(htu, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: spa.client_id, refresh_token: refreshToken }),
      });
    const other = await generateKeyPair('ES256');
    expect(await errorOf(await refresh(tokens.refresh_token!))).toEqual({ status: 400, error: 'invalid_dpop_proof', challenge: null });
    expect(await errorOf(await refresh(tokens.refresh_token!, { dpop: await proof(other, { htm: 'POST', htu }) }))).toEqual({
      status: 400,
      error: 'invalid_grant',
      challenge: null,
    });
    const right = await refresh(tokens.refresh_token!, { dpop: await proof(keys, { htm: 'POST', htu }) });
    expect(right.status).toBe(200);
    const next = (await right.json()) as TokenBody;
    expect(next.token_type).toBe('DPoP');
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt });
    // The binding goes with the family to the next refresh token.
    expect(await errorOf(await refresh(next.refresh_token!))).toEqual({ status: 400, error: 'invalid_dpop_proof', challenge: null });
    expect((await refresh(next.refresh_token!, { dpop: await proof(keys, { htm: 'POST', htu }) })).status).toBe(200);
  });
});
