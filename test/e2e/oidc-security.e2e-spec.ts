import { expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { signUpUser, TestUser } from '../support/accounts';
import { developerRequest } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, createClientApp, currentUser, ErrorBody, exchangeCode, pkcePair, TokenBody } from '../support/oauth';
import { discoverClient, oidcSignIn } from '../support/oidc';
import { SigningKeysService } from '@app/oauth';
import { countRows, Row } from '../support/db';
import { ageRefreshTokens, refreshFamilyOf } from '../support/refresh-tokens';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (app: ClientApp) => `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`;
const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as { kid: string }).kid;

/** What `/oauth/introspect` answers (RFC 7662): `active`, and the token's claims when it is. */
interface Introspection {
  active: boolean;
  [claim: string]: unknown;
}

describe('OpenID Connect: refresh rotation, key rotation, revocation, introspection, logout (security)', () => {
  let t: TestApp;
  let app: ClientApp;
  let other: ClientApp;
  let db: DataSource;
  let config: client.Configuration;
  beforeAll(async () => {
    // A 1 s key cache, so rotations by another process show up quickly.
    t = await startApi({ SIGNING_KEY_CACHE_SECONDS: '1' });
    db = t.app.get(DataSource);
    app = await createClientApp(t.baseUrl, ['http://127.0.0.1:8765/callback', 'http://127.0.0.1:8765/bye']);
    other = await createClientApp(t.baseUrl, ['http://127.0.0.1:9876/callback']);
    const patched = await developerRequest(t.baseUrl, app.developerCookie, 'PATCH', `/api/developer/applications/${app.id}`, {
      postLogoutRedirectUris: ['http://127.0.0.1:8765/bye'],
    });
    expect(patched.status).toBe(200);
    config = await discoverClient(t.baseUrl, app);
  });
  afterAll(() => t.close());

  const post = (path: string, fields: Record<string, string>, who: ClientApp = app, headers: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(who), ...headers },
      body: form(fields),
    });
  const refresh = async (token: string, who: ClientApp = app, extra: Record<string, string> = {}) => {
    const res = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, ...extra }, who);
    return { res, body: (await res.json()) as TokenBody };
  };
  const introspect = async (token: string, who: ClientApp = app) => (await (await post('/oauth/introspect', { token }, who)).json()) as Introspection;
  const signIn = async (user?: TestUser, scope?: string) => (await oidcSignIn(t.baseUrl, config, app, user ?? (await signUpUser(t.baseUrl)), scope)).tokens;

  describe('refresh tokens', () => {
    it('are opaque, stored only as SHA-256, and rotate on every use; a replay after the reuse window revokes the whole family', async () => {
      const first = await signIn();
      expect(first.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const rows = await db.query<Row[]>('SELECT token_hash, family_id FROM refresh_tokens');
      expect(JSON.stringify(rows)).not.toContain(first.refresh_token);

      const second = await refresh(first.refresh_token!);
      expect(second.res.status).toBe(200);
      expect(second.res.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(second.body).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
      expect(second.body.refresh_token).not.toBe(first.refresh_token);

      await ageRefreshTokens(db, (await currentUser(t.baseUrl, second.body.access_token)).body.id, t.config.refreshTokenReuseSeconds + 1);
      const replay = await refresh(first.refresh_token!);
      expect(replay.res.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      // The whole family is dead: the new refresh token and every access token of it.
      expect((await refresh(second.body.refresh_token!)).body.error).toBe('invalid_grant');
      expect((await currentUser(t.baseUrl, second.body.access_token)).res.status).toBe(401);
      expect((await currentUser(t.baseUrl, first.access_token)).res.status).toBe(401);
    });

    it('10 concurrent uses of one refresh token all succeed (the reuse window), in one family', async () => {
      const tokens = await signIn();
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(tokens.refresh_token!)));
      expect(results.map((r) => r.res.status)).toEqual(Array(10).fill(200));
      const family = await refreshFamilyOf(db, tokens.refresh_token!);
      for (const r of results) expect(await refreshFamilyOf(db, r.body.refresh_token!)).toBe(family);
    });

    it('can narrow the scope but not widen it; malformed requests get the right errors', async () => {
      const tokens = await signIn(undefined, 'openid email offline_access');
      expect((await refresh(tokens.refresh_token!, app, { scope: 'openid profile' })).body.error).toBe('invalid_scope');
      expect((await refresh(tokens.refresh_token!, app, { scope: 'made_up' })).body.error).toBe('invalid_scope');
      const narrow = await refresh(tokens.refresh_token!, app, { scope: 'email' });
      expect(narrow.res.status).toBe(200);
      expect(narrow.body.scope).toBe('email');
      expect(narrow.body.id_token).toBeUndefined();
      // The family keeps its full scope.
      const full = await refresh(narrow.body.refresh_token!);
      expect(full.body.scope).toBe('email offline_access openid');

      const missing = await post('/oauth/token', { grant_type: 'refresh_token' });
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as ErrorBody).error).toBe('invalid_request');
      expect((await refresh('not-a-token')).body.error).toBe('invalid_grant');
      expect((await refresh('x'.repeat(43))).body.error).toBe('invalid_grant');
      const twice = await fetch(`${t.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
        body: `grant_type=refresh_token&refresh_token=${full.body.refresh_token}&refresh_token=${full.body.refresh_token}`,
      });
      expect(((await twice.json()) as ErrorBody).error).toBe('invalid_request');
    });

    it('belong to one client: another client gets invalid_grant and cannot burn the family', async () => {
      const tokens = await signIn();
      const foreign = await refresh(tokens.refresh_token!, other);
      expect(foreign.res.status).toBe(400);
      expect(foreign.body.error).toBe('invalid_grant');
      const bad = await fetch(`${t.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:wrong`).toString('base64')}` },
        body: form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect((await refresh(tokens.refresh_token!)).res.status).toBe(200);
    });

    it('are issued only with offline_access', async () => {
      const tokens = await signIn(undefined, 'openid profile');
      expect(tokens.refresh_token).toBeUndefined();
    });

    it('die with the family lifetime, blocking, consent revocation and account closure', async () => {
      const expiring = await signIn();
      await db.query(
        'UPDATE refresh_tokens SET family_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE family_id = (SELECT family_id FROM (SELECT family_id FROM refresh_tokens WHERE connection_id = ? LIMIT 1) f)',
        [expiring.claims()!.sub],
      );
      expect((await refresh(expiring.refresh_token!)).body.error).toBe('invalid_grant');

      const user = await signUpUser(t.baseUrl);
      const blocked = await signIn(user);
      const connectionId = blocked.claims()!.sub;
      const patch = (body: unknown) => developerRequest(t.baseUrl, app.developerCookie, 'PATCH', `/api/developer/applications/${app.id}/users/${connectionId}`, body);
      expect((await patch({ blocked: true })).status).toBe(200);
      expect((await refresh(blocked.refresh_token!)).body.error).toBe('invalid_grant');
      expect((await patch({ blocked: false })).status).toBe(200);
      // Unblocking does not revive the family.
      expect((await refresh(blocked.refresh_token!)).body.error).toBe('invalid_grant');

      const revoked = await signIn();
      // Consent revoked (the account center sets the connection inactive).
      await db.query('UPDATE connections SET active = 0 WHERE id = ?', [revoked.claims()!.sub]);
      expect((await refresh(revoked.refresh_token!)).body.error).toBe('invalid_grant');
      await db.query('UPDATE connections SET active = 1 WHERE id = ?', [revoked.claims()!.sub]);
      expect((await refresh(revoked.refresh_token!)).body.error).toBe('invalid_grant');

      const closed = await signIn();
      const del = await developerRequest(t.baseUrl, app.developerCookie, 'DELETE', `/api/developer/applications/${app.id}/users/${closed.claims()!.sub}`);
      expect(del.status).toBe(204);
      expect((await refresh(closed.refresh_token!)).body.error).toBe('invalid_grant');
      const n = await countRows(db, 'SELECT COUNT(*) AS n FROM refresh_tokens WHERE connection_id = ?', [closed.claims()!.sub]);
      expect(Number(n)).toBe(0);
    });

    it('a replayed authorization code revokes the refresh tokens of the first redemption', async () => {
      const user = await signUpUser(t.baseUrl);
      const pkce = pkcePair();
      const { res } = await authorizeAs(t.baseUrl, user, {
        response_type: 'code',
        client_id: app.clientId,
        redirect_uri: app.redirectUri,
        state: 's',
        scope: 'profile offline_access',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      });
      const code = callbackParams(res).get('code')!;
      const first = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
      expect(first.res.status).toBe(200);
      expect(first.body.id_token).toBeUndefined();
      const replay = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
      expect(replay.body.error).toBe('invalid_grant');
      expect((await refresh(first.body.refresh_token!)).body.error).toBe('invalid_grant');
    });
  });

  describe('revocation and introspection', () => {
    it("a client cannot revoke or introspect another client's tokens", async () => {
      const tokens = await signIn();
      for (const token of [tokens.access_token, tokens.refresh_token!]) {
        const res = await post('/oauth/revoke', { token }, other);
        expect(res.status).toBe(200);
        expect(await introspect(token, other)).toEqual({ active: false });
        expect((await introspect(token)).active).toBe(true);
      }
      expect((await currentUser(t.baseUrl, tokens.access_token)).res.status).toBe(200);
    });

    it('answers 200 / inactive for unknown, malformed and wrong-hint tokens, and rejects bad requests', async () => {
      for (const token of ['unknown', 'a.b.c', 'x'.repeat(43), 'e'.repeat(5000)]) {
        const revoked = await post('/oauth/revoke', { token, token_type_hint: 'access_token' });
        expect(revoked.status).toBe(200);
        expect(await introspect(token)).toEqual({ active: false });
      }
      // A wrong hint changes nothing: the token's form decides.
      const tokens = await signIn();
      expect((await (await post('/oauth/introspect', { token: tokens.refresh_token!, token_type_hint: 'access_token' })).json()) as Introspection).toMatchObject({ active: true });
      expect((await post('/oauth/revoke', { token: tokens.access_token, token_type_hint: 'refresh_token' })).status).toBe(200);
      expect(await introspect(tokens.access_token)).toEqual({ active: false });

      for (const path of ['/oauth/revoke', '/oauth/introspect']) {
        const missing = await post(path, {});
        expect(missing.status).toBe(400);
        expect(((await missing.json()) as ErrorBody).error).toBe('invalid_request');
        const anonymous = await fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ token: 'x' }) });
        expect(anonymous.status).toBe(401);
        expect(((await anonymous.json()) as ErrorBody).error).toBe('invalid_client');
        const wrong = await fetch(`${t.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.clientId}:nope`).toString('base64')}` },
          body: form({ token: 'x' }),
        });
        expect(wrong.status).toBe(401);
        expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
        const query = await fetch(`${t.baseUrl}${path}?token=x`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
          body: form({ token: 'x' }),
        });
        expect(query.status).toBe(400);
        const json = await fetch(`${t.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basic(app) },
          body: JSON.stringify({ token: 'x' }),
        });
        expect(json.status).toBe(400);
        const twice = await fetch(`${t.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
          body: 'token=a&token=b',
        });
        expect(((await twice.json()) as ErrorBody).error).toBe('invalid_request');
      }
    });

    it('userinfo: no, bad or revoked token -> 401 invalid_token with WWW-Authenticate', async () => {
      const none = await fetch(`${t.baseUrl}/oauth/userinfo`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await none.json()) as ErrorBody).error).toBe('invalid_token');
      const bad = await fetch(`${t.baseUrl}/oauth/userinfo`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const tokens = await signIn();
      await post('/oauth/revoke', { token: tokens.access_token });
      expect((await fetch(`${t.baseUrl}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    });
  });

  describe('signing keys', () => {
    const jwks = async () => ((await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('rotate by command: old tokens still verify against the JWKS, new tokens carry the new kid', async () => {
      const before = await signIn();
      const oldKid = kidOf(before.id_token!);
      const keysBefore = await countRows(db, 'SELECT COUNT(*) AS n FROM signing_keys');
      const stored = await db.query<Row[]>('SELECT private_key_enc FROM signing_keys');
      expect(stored.every((r) => !String(r.private_key_enc).includes('PRIVATE KEY'))).toBe(true);

      // The operator's command, in its own process (like another API instance would be).
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['scripts/keys-rotate.js'], { env: { ...process.env, ...t.env, NODE_ENV: 'test' }, stdio: 'ignore' });
        child.on('exit', (c) => resolve(c ?? 1));
      });
      expect(code).toBe(0);
      const keysAfter = await countRows(db, 'SELECT COUNT(*) AS n FROM signing_keys');
      expect(Number(keysAfter)).toBe(Number(keysBefore) + 2); // one RS256 and one ES256 key
      await wait(1500); // the API's key cache (1 s in this test) picks the new key up

      const fresh = await discoverClient(t.baseUrl, app); // a new relying party: fresh JWKS cache
      const after = (await oidcSignIn(t.baseUrl, fresh, app, await signUpUser(t.baseUrl))).tokens;
      const newKid = kidOf(after.id_token!);
      expect(newKid).not.toBe(oldKid);
      expect(await jwks()).toEqual(expect.arrayContaining([oldKid, newKid]));

      const keySet = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
      const verified = await jwtVerify(before.id_token!, keySet, { issuer: t.baseUrl, audience: app.clientId, algorithms: ['RS256'] });
      expect(verified.protectedHeader.kid).toBe(oldKid);
      // A refresh after the rotation gets an id_token the library validates with the new key.
      const refreshed = await client.refreshTokenGrant(fresh, before.refresh_token!);
      expect(kidOf(refreshed.id_token!)).toBe(newKid);
    });

    it('rotate on a schedule when the active key is too old, and retire keys once their tokens have expired', async () => {
      const before = await signIn();
      const oldKid = kidOf(before.id_token!);
      await db.query('UPDATE signing_keys SET created_at = UTC_TIMESTAMP(3) - INTERVAL 91 DAY WHERE kid = ?', [oldKid]);
      await wait(1500);
      const after = await signIn();
      const newKid = kidOf(after.id_token!);
      expect(newKid).not.toBe(oldKid);
      expect(await jwks()).toEqual(expect.arrayContaining([oldKid, newKid]));

      // Rotated longer ago than an id_token lives (+ cache + skew): no longer published.
      await db.query('UPDATE signing_keys SET rotated_at = UTC_TIMESTAMP(3) - INTERVAL 2 HOUR WHERE kid = ?', [oldKid]);
      await wait(1100);
      expect(await jwks()).not.toContain(oldKid);
      expect(await jwks()).toContain(newKid);
    });
  });

  describe('RP-initiated logout', () => {
    const logout = (params: Record<string, string>, user?: TestUser) =>
      fetch(`${t.baseUrl}/oauth/logout?${new URLSearchParams(params).toString()}`, { redirect: 'manual', headers: user ? { cookie: user.cookie } : {} });
    const signedIn = async (user: TestUser) => (await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status === 200;

    it('never redirects to an unregistered or foreign post_logout_redirect_uri', async () => {
      const user = await signUpUser(t.baseUrl);
      const tokens = await signIn(user);
      for (const target of ['https://evil.example/', 'http://127.0.0.1:8765/bye/', 'http://127.0.0.1:8765/BYE', app.redirectUri, other.redirectUri, `${t.baseUrl}/login`]) {
        const res = await logout({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: target, state: 'x' }, user);
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(await res.text()).toContain('signed out');
      }
      // The hint was valid, so the session did end.
      expect(await signedIn(user)).toBe(false);
    });

    it('signs out with an expired id_token_hint (signature and issuer still checked) but does not redirect', async () => {
      const user = await signUpUser(t.baseUrl);
      const tokens = await signIn(user);
      const claims = tokens.claims()!;
      const key = await t.app.get(SigningKeysService).activeKey();
      const past = Math.floor(Date.now() / 1000) - 7200;
      const sign = (payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid }).sign(key.privateKey);
      const expired = await sign({ iss: t.baseUrl, sub: claims.sub, aud: app.clientId, iat: past, exp: past + 3600 });
      const res = await logout({ id_token_hint: expired, post_logout_redirect_uri: 'http://127.0.0.1:8765/bye' }, user);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('expired');
      expect(await signedIn(user)).toBe(false);
      const foreignIssuer = await sign({ iss: 'https://evil.example', sub: claims.sub, aud: app.clientId, iat: past, exp: past + 3600 });
      expect((await logout({ id_token_hint: foreignIssuer, post_logout_redirect_uri: 'http://127.0.0.1:8765/bye' })).status).toBe(400);
    });

    it('refuses a forged or foreign hint and asks for confirmation without one (no logout CSRF)', async () => {
      const user = await signUpUser(t.baseUrl);
      const tokens = await signIn(user);
      const [h, p, s] = tokens.id_token!.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), aud: other.clientId })).toString('base64url')}.${s}`;
      for (const hint of [forged, 'garbage', `${h}.${p}.`]) {
        const res = await logout({ id_token_hint: hint, post_logout_redirect_uri: app.redirectUri }, user);
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
      }
      const mismatch = await logout({ id_token_hint: tokens.id_token!, client_id: other.clientId, post_logout_redirect_uri: app.redirectUri }, user);
      expect(mismatch.status).toBe(400);
      const noHint = await logout({ post_logout_redirect_uri: app.redirectUri }, user);
      expect(noHint.status).toBe(200);
      expect(noHint.headers.get('location')).toBeNull();
      expect(await noHint.text()).toContain('action="/logout"');
      expect(await signedIn(user)).toBe(true);

      // Another user's valid hint redirects the RP back but does not end this browser's session.
      const someoneElse = await signIn();
      const res = await logout({ id_token_hint: someoneElse.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:8765/bye', state: 'st' }, user);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('http://127.0.0.1:8765/bye?state=st');
      expect(await signedIn(user)).toBe(true);
    });
  });
});
