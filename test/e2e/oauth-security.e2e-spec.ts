import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { REDIS, sha256, sha256Hex } from '@app/common';
import Redis from 'ioredis';
import { s256 } from '@app/oauth';
import { signUpUser } from '../support/accounts';
import { getPage } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, codeFor, createClientApp, currentUser, ErrorBody, exchangeCode } from '../support/oauth';
import { Row } from '../support/db';

const REGISTERED = 'https://client.example/cb';

describe('OAuth security checklist', () => {
  let t: TestApp;
  let app: ClientApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl, [REGISTERED]);
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const post = (body: string, headers: Record<string, string> = {}, path = '/oauth/token') =>
    fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  describe('redirect URIs and the authorization endpoint', () => {
    it.each([
      ['trailing slash', `${REGISTERED}/`],
      ['case change in host', 'https://CLIENT.example/cb'],
      ['case change in path', 'https://client.example/CB'],
      ['extra query', `${REGISTERED}?x=1`],
      ['path suffix', `${REGISTERED}/more`],
      ['userinfo', 'https://user@client.example/cb'],
      ['percent-encoding', 'https://client.example/%63b'],
      ['subdomain', 'https://evil.client.example/cb'],
      ['fragment', `${REGISTERED}#x`],
      ['other scheme', 'http://client.example/cb'],
    ])('shows an error page, never a redirect, for a %s', async (_, redirectUri) => {
      const user = await signUpUser(t.baseUrl);
      const page = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: redirectUri, state: 's' }), user.jar);
      expect(page.res.status).toBe(400);
      expect(page.res.headers.get('location')).toBeNull();
      expect(page.res.headers.get('content-type')).toContain('text/html');
    });

    it('shows an error page for an unknown or missing client_id', async () => {
      for (const clientId of ['nope', undefined]) {
        const res = await fetch(`${t.baseUrl}${authorizePath({ response_type: 'code', client_id: clientId, redirect_uri: REGISTERED })}`, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      }
    });

    it.each([
      ['response_type=token (implicit)', { response_type: 'token' }, 'unsupported_response_type'],
      ['missing response_type', { response_type: undefined }, 'invalid_request'],
      ['an unknown scope', { scope: 'profile admin' }, 'invalid_scope'],
      ['PKCE plain', { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
      ['a challenge without method (plain by default)', { code_challenge: 'x'.repeat(43) }, 'invalid_request'],
      ['a method without challenge', { code_challenge_method: 'S256' }, 'invalid_request'],
      ['a malformed challenge', { code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
    ])('redirects %s with the error and the exact state', async (_, extra, error) => {
      const user = await signUpUser(t.baseUrl);
      const state = 'st@te with spaces/and?marks';
      const page = await getPage(t.baseUrl, authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: REGISTERED, state, ...extra }), user.jar);
      expect(page.res.status).toBe(303);
      const params = callbackParams(page.res);
      expect(params.get('error')).toBe(error);
      expect(params.get('state')).toBe(state);
      expect(params.get('code')).toBeNull();
    });

    it('redirects a repeated parameter as invalid_request', async () => {
      const user = await signUpUser(t.baseUrl);
      const path = `${authorizePath({ response_type: 'code', client_id: app.clientId, redirect_uri: REGISTERED })}&scope=profile&scope=email`;
      const page = await getPage(t.baseUrl, path, user.jar);
      expect(callbackParams(page.res).get('error')).toBe('invalid_request');
    });
  });

  describe('PKCE', () => {
    it('passes the RFC 7636 Appendix B vector', () => {
      expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    });

    it('accepts the Appendix B verifier for its challenge end to end', async () => {
      const user = await signUpUser(t.baseUrl);
      const { res } = await authorizeAs(t.baseUrl, user, {
        response_type: 'code',
        client_id: app.clientId,
        redirect_uri: REGISTERED,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const code = callbackParams(res).get('code')!;
      const { res: token } = await exchangeCode(t.baseUrl, app, { code, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' });
      expect(token.status).toBe(200);
    });

    it.each([
      ['a wrong verifier', (v: string) => ({ code_verifier: v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A') })],
      ['a missing verifier', () => ({})],
      ['a too-short verifier', () => ({ code_verifier: 'abc' })],
    ])('answers %s with invalid_grant', async (_, verifierFields) => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const { res, body } = await exchangeCode(t.baseUrl, app, { code, ...verifierFields(verifier) });
      expect(res.status).toBe(400);
      expect(body.error).toBe('invalid_grant');
    });

    it('rejects a verifier when no challenge was sent (downgrade)', async () => {
      const user = await signUpUser(t.baseUrl);
      const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: REGISTERED });
      const code = callbackParams(res).get('code')!;
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' });
      expect(body.error).toBe('invalid_grant');
    });
  });

  describe('token endpoint', () => {
    it('succeeds with no-store, no-cache, Bearer, 3600 s and the granted scope', async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const { res, body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'email profile' });
    });

    it('accepts client_secret_basic with form-urlencoded id and secret (":" and "%" in the secret)', async () => {
      const secret = 'se:cr%et+with spaces';
      await db.query('UPDATE applications SET client_secret_hash = ? WHERE id = ?', [sha256(secret), app.id]);
      try {
        const { code, verifier } = await codeFor(t.baseUrl, app);
        const basic = Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(secret).replace(/%20/g, '+')}`).toString('base64');
        const res = await post(form({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REGISTERED }), { authorization: `Basic ${basic}` });
        expect(res.status).toBe(200);
      } finally {
        await db.query('UPDATE applications SET client_secret_hash = ? WHERE id = ?', [sha256(app.clientSecret), app.id]);
      }
    });

    it('answers a failed Basic authentication with 401 invalid_client and WWW-Authenticate: Basic', async () => {
      const basic = Buffer.from(`${app.clientId}:wrong`).toString('base64');
      const res = await post(form({ grant_type: 'authorization_code', code: 'x', redirect_uri: REGISTERED }), { authorization: `Basic ${basic}` });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_client');
    });

    it('answers a failed client_secret_post with 401 invalid_client', async () => {
      const { res, body } = await exchangeCode(t.baseUrl, { ...app, clientSecret: 'wrong' }, { code: 'x' });
      expect(res.status).toBe(401);
      expect(body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    });

    it('refuses both client authentication methods at once', async () => {
      const basic = Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64');
      const res = await post(form({ grant_type: 'authorization_code', code: 'x', redirect_uri: REGISTERED, client_secret: app.clientSecret }), {
        authorization: `Basic ${basic}`,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_request');
    });

    it('refuses credentials in the query string', async () => {
      const query = form({ client_id: app.clientId, client_secret: app.clientSecret });
      const res = await post(form({ grant_type: 'authorization_code', code: 'x', redirect_uri: REGISTERED }), {}, `/oauth/token?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_request');
    });

    it('refuses GET and a repeated parameter with invalid_request', async () => {
      const get = await fetch(`${t.baseUrl}/oauth/token`);
      expect(get.status).toBe(400);
      expect(((await get.json()) as ErrorBody).error).toBe('invalid_request');
      const twice = await post(
        `${form({ client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: REGISTERED })}&grant_type=authorization_code&grant_type=authorization_code&code=x`,
      );
      expect(twice.status).toBe(400);
      expect(((await twice.json()) as ErrorBody).error).toBe('invalid_request');
    });

    it.each([
      ['password', 'unsupported_grant_type'],
      ['made_up', 'unsupported_grant_type'],
      ['client_credentials', 'unauthorized_client'],
    ])('answers grant_type=%s with %s', async (grantType, error) => {
      const { res, body } = await exchangeCode(t.baseUrl, app, { grant_type: grantType, code: 'x' });
      expect(res.status).toBe(400);
      expect(body.error).toBe(error);
    });

    it('answers a scope wider than granted with invalid_scope', async () => {
      const user = await signUpUser(t.baseUrl);
      const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: REGISTERED, scope: 'profile' });
      const code = callbackParams(res).get('code')!;
      const { body } = await exchangeCode(t.baseUrl, app, { code, scope: 'profile email' });
      expect(body.error).toBe('invalid_scope');
    });

    it('answers a bad code, a foreign code and a redirect_uri mismatch with invalid_grant', async () => {
      expect((await exchangeCode(t.baseUrl, app, { code: 'not-a-real-code' })).body.error).toBe('invalid_grant');

      const other = await createClientApp(t.baseUrl, [REGISTERED]);
      const foreign = await codeFor(t.baseUrl, other);
      expect((await exchangeCode(t.baseUrl, app, { code: foreign.code, code_verifier: foreign.verifier })).body.error).toBe('invalid_grant');

      const mismatch = await codeFor(t.baseUrl, app);
      const { body } = await exchangeCode(t.baseUrl, app, { code: mismatch.code, code_verifier: mismatch.verifier, redirect_uri: `${REGISTERED}/` });
      expect(body.error).toBe('invalid_grant');
    });

    it('requires the redirect_uri that was sent to authorize', async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const res = await post(form({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: app.clientId, client_secret: app.clientSecret }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_request');
    });

    it('on a second redemption answers invalid_grant and revokes the tokens of the first', async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const first = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      expect(first.res.status).toBe(200);
      expect((await currentUser(t.baseUrl, first.body.access_token)).res.status).toBe(200);
      const second = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      expect(second.body.error).toBe('invalid_grant');
      expect((await currentUser(t.baseUrl, first.body.access_token)).res.status).toBe(401);
    });

    it('lets exactly one of 20 concurrent redemptions of one code succeed', async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const results = await Promise.all(Array.from({ length: 20 }, () => exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })));
      expect(results.filter((r) => r.res.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(19);
      // The 19 others were replays: the winner's token is revoked too.
      const winner = results.find((r) => r.res.status === 200)!;
      expect((await currentUser(t.baseUrl, winner.body.access_token)).res.status).toBe(401);
    });

    it('stores codes and tokens only as hashes', async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const redis = t.app.get<Redis>(REDIS);
      const keys = await redis.keys(`${t.config.redisPrefix}:code:*`);
      expect(keys.some((k) => k.includes(code))).toBe(false);
      expect(keys).toContain(`${t.config.redisPrefix}:code:{${sha256Hex(code)}}`);
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      const rows = await db.query<Row[]>('SELECT * FROM access_tokens');
      expect(JSON.stringify(rows)).not.toContain(body.access_token);
    });
  });

  describe('GET /api/user', () => {
    it('answers no token with 401 and a bare Bearer challenge', async () => {
      const res = await fetch(`${t.baseUrl}/api/user`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="LoginSign"');
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_token');
    });

    it.each([['garbage'], ['Bearer'], ['Bearer not.a.jwt'], ['Basic abc']])('answers the header "%s" with 401 invalid_token', async (header) => {
      const res = await fetch(`${t.baseUrl}/api/user`, { headers: { authorization: header } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(((await res.json()) as ErrorBody).error).toBe('invalid_token');
    });

    const signedIn = async () => {
      const { code, verifier } = await codeFor(t.baseUrl, app);
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      const { body: profile } = await currentUser(t.baseUrl, body.access_token);
      return { token: body.access_token, connectionId: profile.id };
    };

    it('stops accepting an expired token, a deleted connection and a blocked user on the very next request', async () => {
      const expired = await signedIn();
      await db.query('UPDATE access_tokens SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE connection_id = ?', [expired.connectionId]);
      expect((await currentUser(t.baseUrl, expired.token)).res.status).toBe(401);

      const deleted = await signedIn();
      await db.query('DELETE FROM connections WHERE id = ?', [deleted.connectionId]);
      expect((await currentUser(t.baseUrl, deleted.token)).res.status).toBe(401);

      const blocked = await signedIn();
      await db.query('UPDATE connections SET blocked = 1 WHERE id = ?', [blocked.connectionId]);
      expect((await currentUser(t.baseUrl, blocked.token)).res.status).toBe(401);
    });

    it('keeps issued tokens working after the client secret is rotated', async () => {
      const { token } = await signedIn();
      const rotated = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}/client-secret`, { method: 'POST', headers: { cookie: app.developerCookie } });
      expect(rotated.status).toBe(200);
      app.clientSecret = ((await rotated.json()) as { clientSecret: string }).clientSecret;
      expect((await currentUser(t.baseUrl, token)).res.status).toBe(200);
    });

    it('rejects a token signed with another key', async () => {
      const { token } = await signedIn();
      const [header, payload] = token.split('.');
      const forged = `${header}.${payload}.${Buffer.from('x'.repeat(32)).toString('base64url')}`;
      expect((await currentUser(t.baseUrl, forged)).res.status).toBe(401);
    });
  });
});

describe('authorization code lifetime', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ CODE_TTL_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('answers an expired code with invalid_grant', async () => {
    const app = await createClientApp(t.baseUrl, [REGISTERED]);
    const { code, verifier } = await codeFor(t.baseUrl, app);
    await new Promise((r) => setTimeout(r, 1500));
    const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(body.error).toBe('invalid_grant');
  });
});
