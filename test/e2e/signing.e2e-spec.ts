import { expect } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DataSource } from 'typeorm';
import { IdTokensService, SigningKeysRepository, SigningKeysService } from '@app/oauth';
import { signUpUser } from '../support/accounts';
import { developerRequest } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, createClientApp, ErrorBody, exchangeCode, pkcePair, TokenBody } from '../support/oauth';

interface Jwk {
  kid: string;
  alg: string;
  use: string;
  kty: string;
  [member: string]: unknown;
}

/** id_tokens RS256 by default and ES256 per application, both keys in the JWKS, rotation of both. */
describe('Signing keys and id_token algorithms', () => {
  let t: TestApp;
  let db: DataSource;
  let rsApp: ClientApp;
  let esApp: ClientApp;

  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
    rsApp = await createClientApp(t.baseUrl);
    esApp = await createClientApp(t.baseUrl);
    const patched = await developerRequest(t.baseUrl, esApp.developerCookie, 'PATCH', `/api/developer/applications/${esApp.id}`, { idTokenSigningAlg: 'ES256' });
    expect(patched.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  const jwks = async () => ((await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Jwk[] }).keys;

  async function signIn(app: ClientApp): Promise<TokenBody> {
    const pkce = pkcePair();
    const { res } = await authorizeAs(t.baseUrl, await signUpUser(t.baseUrl), {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope: 'openid profile',
      state: 's',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const { res: tokenRes, body } = await exchangeCode(t.baseUrl, app, { code: callbackParams(res).get('code')!, code_verifier: pkce.verifier });
    expect(tokenRes.status).toBe(200);
    return body;
  }

  /** Checked the way a relying party does: against the published JWKS (a fresh key set each time). */
  const verifyIdToken = (token: string, app: ClientApp, alg: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`)), { issuer: t.baseUrl, audience: app.clientId, algorithms: [alg] });

  it('idTokenSigningAlg: RS256 by default, ES256 when set; create, PATCH and GET; other values 400 invalid_request', async () => {
    const created = await developerRequest(t.baseUrl, rsApp.developerCookie, 'POST', '/api/developer/applications', {
      name: 'EC app',
      redirectUris: ['https://ec.example/cb'],
      idTokenSigningAlg: 'ES256',
    });
    expect(created.status).toBe(201);
    const app = (await created.json()) as { id: string; idTokenSigningAlg: string };
    expect(app.idTokenSigningAlg).toBe('ES256');
    const get = async (id: string) =>
      ((await (await developerRequest(t.baseUrl, rsApp.developerCookie, 'GET', `/api/developer/applications/${id}`)).json()) as { idTokenSigningAlg: string }).idTokenSigningAlg;
    expect(await get(rsApp.id)).toBe('RS256');
    const patched = await developerRequest(t.baseUrl, rsApp.developerCookie, 'PATCH', `/api/developer/applications/${app.id}`, { idTokenSigningAlg: 'RS256' });
    expect(patched.status).toBe(200);
    expect(await get(app.id)).toBe('RS256');

    for (const bad of ['HS256', 'none', 'rs256', '', null, 256, ['RS256']]) {
      const onCreate = await developerRequest(t.baseUrl, rsApp.developerCookie, 'POST', '/api/developer/applications', {
        name: 'Bad',
        redirectUris: ['https://bad.example/cb'],
        idTokenSigningAlg: bad,
      });
      const onPatch = await developerRequest(t.baseUrl, rsApp.developerCookie, 'PATCH', `/api/developer/applications/${app.id}`, { idTokenSigningAlg: bad });
      for (const res of [onCreate, onPatch]) {
        expect([bad, res.status, ((await res.json()) as ErrorBody).error]).toEqual([bad, 400, 'invalid_request']);
      }
    }
    expect(await get(app.id)).toBe('RS256');
  });

  it('signs each application’s id_tokens with its algorithm; both keys are in the JWKS with kid, alg and use', async () => {
    const keys = await jwks();
    expect(keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of keys) {
      expect(key.use).toBe('sig');
      expect(typeof key.kid).toBe('string');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[member]).toBeUndefined();
    }
    const rsa = keys.find((k) => k.alg === 'RS256')!;
    expect(rsa.kty).toBe('RSA');
    expect(Buffer.from(rsa.n as string, 'base64url').length * 8).toBe(2048);

    const rs = await signIn(rsApp);
    const es = await signIn(esApp);
    const rsVerified = await verifyIdToken(rs.id_token!, rsApp, 'RS256');
    const esVerified = await verifyIdToken(es.id_token!, esApp, 'ES256');
    expect(rsVerified.protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: rsa.kid });
    expect(esVerified.protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: keys.find((k) => k.alg === 'ES256')!.kid });
    // An ES256 app's id_token does not pass as RS256 and the other way round.
    await expect(verifyIdToken(es.id_token!, esApp, 'RS256')).rejects.toThrow();
    await expect(verifyIdToken(rs.id_token!, rsApp, 'ES256')).rejects.toThrow();
    // Access tokens are RS256 whatever the application's id_token algorithm.
    expect(decodeProtectedHeader(es.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: rsa.kid });
  });

  it('rotation replaces both keys; tokens signed before and after all verify against the JWKS', async () => {
    const before = { rs: await signIn(rsApp), es: await signIn(esApp) };
    const oldKids = (await jwks()).map((k) => k.kid);
    const newKids = await t.app.get(SigningKeysService).rotate();
    expect(newKids).toHaveLength(2);
    const after = { rs: await signIn(rsApp), es: await signIn(esApp) };

    const published = await jwks();
    expect(published.map((k) => k.kid)).toEqual(expect.arrayContaining([...oldKids, ...newKids]));
    expect(newKids).toContain(decodeProtectedHeader(after.rs.id_token!).kid);
    expect(newKids).toContain(decodeProtectedHeader(after.es.id_token!).kid);
    expect(newKids).toContain(decodeProtectedHeader(after.rs.access_token).kid);
    for (const tokens of [before, after]) {
      await verifyIdToken(tokens.rs.id_token!, rsApp, 'RS256');
      await verifyIdToken(tokens.es.id_token!, esApp, 'ES256');
      // The access tokens of both generations still work at the API.
      const user = await fetch(`${t.baseUrl}/api/user`, { headers: { authorization: `Bearer ${tokens.es.access_token}` } });
      expect(user.status).toBe(200);
    }
  });

  it('verifyHint: our id_tokens of either algorithm, for the named client; never an access token or a forgery', async () => {
    const hints = t.app.get(IdTokensService);
    const rs = await signIn(rsApp);
    const es = await signIn(esApp);
    const rsSub = (await verifyIdToken(rs.id_token!, rsApp, 'RS256')).payload.sub;
    expect(await hints.verifyHint(rs.id_token!)).toEqual({ sub: rsSub, aud: rsApp.clientId, exp: expect.any(Number) });
    expect(await hints.verifyHint(rs.id_token!, rsApp.clientId)).toEqual({ sub: rsSub, aud: rsApp.clientId, exp: expect.any(Number) });
    expect((await hints.verifyHint(es.id_token!, esApp.clientId))?.aud).toBe(esApp.clientId);
    expect(await hints.verifyHint(rs.id_token!, esApp.clientId)).toBeNull();
    expect(await hints.verifyHint(rs.access_token)).toBeNull();
    const [h, p, s] = rs.id_token!.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), aud: esApp.clientId })).toString('base64url')}.${s}`;
    for (const bad of [forged, `${h}.${p}.`, 'garbage', '', 'a.b.c', 'x'.repeat(10_000)]) expect(await hints.verifyHint(bad)).toBeNull();
  });

  // Last: it deletes the RSA keys this API process signs with.
  it('a database with only an ES256 key (before this version) keeps it and gains an RSA key', async () => {
    const es = await signIn(esApp);
    const esKid = decodeProtectedHeader(es.id_token!).kid;
    await db.query(`DELETE FROM signing_keys WHERE alg = 'RS256'`);
    // A process started after the upgrade.
    const fresh = new SigningKeysService(db, new SigningKeysRepository(db), t.config);
    expect((await fresh.activeKey('ES256')).kid).toBe(esKid);
    const rsa = await fresh.activeKey('RS256');
    expect(rsa.alg).toBe('RS256');
    expect((await fresh.publishedKeys()).map((k) => k.kid)).toEqual(expect.arrayContaining([esKid, rsa.kid]));
    await verifyIdToken(es.id_token!, esApp, 'ES256');
  });
});
