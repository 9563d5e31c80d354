// Developer API keys: created once (cookie session or portal form), stored
// hashed, used as `Authorization: Bearer lsk_...` on the applications API
// exactly like the developer's cookie, refused everywhere else; revocable,
// expiring, rate limited per key.
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { CookieJar, getPage, postForm } from '../support/forms';
import { DEVELOPER_COOKIE, developerRequest, readJson, signUpDeveloper, TestDeveloper, UsersPage, createApplication, CreatedTestApplication } from '../support/developer';
import { codeFor, exchangeCode, currentUser } from '../support/oauth';

const RATE = 40;
const KEY_FORMAT = /^lsk_[A-Za-z0-9_-]{43}$/;

interface ApiKeyBody {
  id: string;
  name: string;
  key?: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  error?: string;
  error_description?: string;
}

interface KeyRow {
  id: string;
  developer_id: string;
  key_hash: Buffer;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

describe('developer API keys', () => {
  let t: TestApp;
  let db: DataSource;
  let alice: TestDeveloper;
  let bob: TestDeveloper;
  let aliceApp: CreatedTestApplication;
  let bobApp: CreatedTestApplication;

  beforeAll(async () => {
    t = await startApi({ API_KEY_RATE_PER_MINUTE: String(RATE) });
    db = t.app.get(DataSource);
    [alice, bob] = await Promise.all([signUpDeveloper(t.baseUrl), signUpDeveloper(t.baseUrl)]);
    [aliceApp, bobApp] = await Promise.all([createApplication(t.baseUrl, alice.cookie, { name: 'Alice App' }), createApplication(t.baseUrl, bob.cookie, { name: 'Bob App' })]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const createKey = async (dev: TestDeveloper, body: unknown = { name: 'CI' }) => {
    const res = await developerRequest(t.baseUrl, dev.cookie, 'POST', '/api/developer/api-keys', body);
    return { res, body: await readJson<ApiKeyBody>(res) };
  };
  const newKey = async (dev: TestDeveloper, body: unknown = { name: 'CI' }) => {
    const { res, body: created } = await createKey(dev, body);
    expect(res.status).toBe(201);
    return created as ApiKeyBody & { key: string };
  };
  /** A request with the key only (no cookie). */
  const withKey = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    developerRequest(t.baseUrl, undefined, method, path, body, { authorization: `Bearer ${key}`, ...headers });
  const row = async (id: string) =>
    (await db.query<KeyRow[]>('SELECT id, developer_id, key_hash, last_used_at, expires_at, revoked_at FROM developer_api_keys WHERE id = ?', [id]))[0];
  const keyCount = async () => Number((await db.query<{ n: string }[]>('SELECT COUNT(*) AS n FROM developer_api_keys'))[0].n);

  const expectInvalidToken = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await readJson(res)).error).toBe('invalid_token');
  };

  it('creates a key shown once, stored as its SHA-256, listed without the key', async () => {
    const created = await newKey(alice, { name: '  Deploy bot  ', expiresInDays: 30 });
    expect(created.key).toMatch(KEY_FORMAT);
    expect(created.name).toBe('Deploy bot');
    expect(created.lastUsedAt).toBeNull();
    expect(created.revokedAt).toBeNull();
    expect(Date.parse(created.expiresAt!) - Date.parse(created.createdAt)).toBe(30 * 86_400_000);

    const stored = await row(created.id);
    expect(Number(stored.developer_id)).toBe(alice.id);
    expect(Buffer.compare(stored.key_hash, createHash('sha256').update(created.key).digest())).toBe(0);
    const raw = await db.query<Record<string, unknown>[]>('SELECT * FROM developer_api_keys WHERE id = ?', [created.id]);
    expect(JSON.stringify(raw)).not.toContain(created.key.slice(4));

    const list = await developerRequest(t.baseUrl, alice.cookie, 'GET', '/api/developer/api-keys');
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toContain(created.key);
    const { apiKeys } = JSON.parse(text) as { apiKeys: ApiKeyBody[] };
    const listed = apiKeys.find((k) => k.id === created.id)!;
    expect(listed).toEqual({ id: created.id, name: 'Deploy bot', createdAt: created.createdAt, lastUsedAt: null, expiresAt: created.expiresAt, revokedAt: null });
    expect(Object.keys(listed)).not.toContain('key');
    // Bob does not see Alice's keys.
    const bobs = await readJson<{ apiKeys: ApiKeyBody[] }>(await developerRequest(t.baseUrl, bob.cookie, 'GET', '/api/developer/api-keys'));
    expect(bobs.apiKeys.map((k) => k.id)).not.toContain(created.id);
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const before = await keyCount();
    const bad: unknown[] = [
      {},
      { name: 42 },
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'tab\there' },
      { name: 'ok', expiresInDays: '30' },
      { name: 'ok', expiresInDays: 0 },
      { name: 'ok', expiresInDays: -1 },
      { name: 'ok', expiresInDays: 1.5 },
      { name: 'ok', expiresInDays: 3651 },
      { name: 'ok', expiresInDays: 1e20 },
      { name: 'ok', expiresInDays: null },
      [],
      'null',
    ];
    for (const body of bad) {
      const { res, body: answer } = await createKey(alice, body);
      expect([res.status, JSON.stringify(body)]).toEqual([400, JSON.stringify(body)]);
      expect(answer.error).toBe('invalid_request');
      expect(typeof answer.error_description).toBe('string');
    }
    const wrongType = await developerRequest(t.baseUrl, alice.cookie, 'POST', '/api/developer/api-keys', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
    // A form body on the cookie-authenticated JSON API is refused by its CSRF rule.
    expect(wrongType.status).toBe(403);
    expect(await keyCount()).toBe(before);
  });

  it('authenticates every applications endpoint like the cookie: list, get, patch, users, delete', async () => {
    const { key } = await newKey(alice);
    // Applications: list and read.
    const list = await withKey(key, 'GET', '/api/developer/applications');
    expect(list.status).toBe(200);
    const { applications } = await readJson<{ applications: { id: string }[] }>(list);
    expect(applications.map((a) => a.id)).toEqual([aliceApp.id]);
    const viaCookie = await readJson(await developerRequest(t.baseUrl, alice.cookie, 'GET', `/api/developer/applications/${aliceApp.id}`));
    const viaKey = await withKey(key, 'GET', `/api/developer/applications/${aliceApp.id}`);
    expect(viaKey.status).toBe(200);
    expect(await readJson(viaKey)).toEqual(viaCookie);

    // Patch, without any CSRF rule (no cookie is involved): even a foreign Origin is irrelevant.
    const patched = await withKey(key, 'PATCH', `/api/developer/applications/${aliceApp.id}`, { name: 'Renamed by key' }, { origin: 'https://elsewhere.example' });
    expect(patched.status).toBe(200);
    expect((await readJson(patched)).name).toBe('Renamed by key');
    // The same foreign Origin with the cookie is refused.
    const cookieCrossSite = await developerRequest(
      t.baseUrl,
      alice.cookie,
      'PATCH',
      `/api/developer/applications/${aliceApp.id}`,
      { name: 'x' },
      { origin: 'https://elsewhere.example' },
    );
    expect(cookieCrossSite.status).toBe(403);

    // Users of the application: list, patch, delete.
    const client = { id: aliceApp.id, clientId: aliceApp.clientId, clientSecret: aliceApp.clientSecret, redirectUri: aliceApp.redirectUris[0], developerCookie: alice.cookie };
    const { code, verifier } = await codeFor(t.baseUrl, client);
    const { body: token } = await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier });
    const { body: profile } = await currentUser(t.baseUrl, token.access_token);
    const users = await withKey(key, 'GET', `/api/developer/applications/${aliceApp.id}/users`);
    expect(users.status).toBe(200);
    expect((await readJson<UsersPage>(users)).users.map((u) => u.id)).toEqual([profile.id]);
    const blocked = await withKey(key, 'PATCH', `/api/developer/applications/${aliceApp.id}/users/${profile.id}`, { blocked: true });
    expect(blocked.status).toBe(200);
    expect((await readJson(blocked)).blocked).toBe(true);
    const removed = await withKey(key, 'DELETE', `/api/developer/applications/${aliceApp.id}/users/${profile.id}`);
    expect(removed.status).toBe(204);
    expect((await readJson<UsersPage>(await withKey(key, 'GET', `/api/developer/applications/${aliceApp.id}/users`))).users).toEqual([]);

    // Create and delete an application.
    const made = await withKey(key, 'POST', '/api/developer/applications', { name: 'Made by key', redirectUris: ['https://made.example/cb'] });
    expect(made.status).toBe(201);
    const madeId = (await readJson<{ id: string }>(made)).id;
    const gone = await withKey(key, 'DELETE', `/api/developer/applications/${madeId}`);
    expect(gone.status).toBe(204);
    expect((await withKey(key, 'GET', `/api/developer/applications/${madeId}`)).status).toBe(404);
  });

  it("isolates tenants: Alice's key on Bob's application is 404, as with Alice's cookie", async () => {
    const { key } = await newKey(alice);
    const paths = [`/api/developer/applications/${bobApp.id}`, `/api/developer/applications/${bobApp.id}/users`, `/api/developer/applications/${bobApp.id}/webhooks`];
    for (const path of paths) {
      const [byKey, byCookie] = await Promise.all([withKey(key, 'GET', path), developerRequest(t.baseUrl, alice.cookie, 'GET', path)]);
      expect([path, byKey.status]).toEqual([path, 404]);
      expect(await readJson(byKey)).toEqual(await readJson(byCookie));
    }
    expect((await withKey(key, 'PATCH', `/api/developer/applications/${bobApp.id}`, { name: 'Stolen' })).status).toBe(404);
    expect((await withKey(key, 'DELETE', `/api/developer/applications/${bobApp.id}`)).status).toBe(404);
    const bobs = await readJson(await developerRequest(t.baseUrl, bob.cookie, 'GET', `/api/developer/applications/${bobApp.id}`));
    expect(bobs.name).toBe('Bob App');
  });

  it('refuses unknown, malformed, revoked and expired keys with 401 invalid_token', async () => {
    const path = '/api/developer/applications';
    await expectInvalidToken(await withKey(`lsk_${'A'.repeat(43)}`, 'GET', path));
    await expectInvalidToken(await withKey('lsk_short', 'GET', path));
    await expectInvalidToken(await withKey('not-a-key', 'GET', path));
    await expectInvalidToken(await withKey(`lsk_${'A'.repeat(5000)}`, 'GET', path));

    // Revoked: another developer cannot revoke it (404); its owner can, at once.
    const { id, key } = await newKey(alice);
    expect((await withKey(key, 'GET', path)).status).toBe(200);
    expect((await developerRequest(t.baseUrl, bob.cookie, 'DELETE', `/api/developer/api-keys/${id}`)).status).toBe(404);
    expect((await withKey(key, 'GET', path)).status).toBe(200);
    expect((await developerRequest(t.baseUrl, alice.cookie, 'DELETE', '/api/developer/api-keys/key_unknown')).status).toBe(404);
    const revoked = await developerRequest(t.baseUrl, alice.cookie, 'DELETE', `/api/developer/api-keys/${id}`);
    expect(revoked.status).toBe(204);
    await expectInvalidToken(await withKey(key, 'GET', path));
    const revokedAt = (await row(id)).revoked_at;
    expect(revokedAt).toBeInstanceOf(Date);
    // Revoking again changes nothing.
    expect((await developerRequest(t.baseUrl, alice.cookie, 'DELETE', `/api/developer/api-keys/${id}`)).status).toBe(204);
    expect((await row(id)).revoked_at).toEqual(revokedAt);
    const listed = (await readJson<{ apiKeys: ApiKeyBody[] }>(await developerRequest(t.baseUrl, alice.cookie, 'GET', '/api/developer/api-keys'))).apiKeys.find((k) => k.id === id)!;
    expect(listed.revokedAt).toBe(revokedAt!.toISOString().replace(/\.\d{3}Z$/, 'Z'));

    // Expired: the key's lifetime has passed (its expiry moved to the past).
    const expiring = await newKey(alice, { name: 'Short-lived', expiresInDays: 1 });
    expect((await withKey(expiring.key, 'GET', path)).status).toBe(200);
    await db.query('UPDATE developer_api_keys SET expires_at = ? WHERE id = ?', [new Date(Date.now() - 1000), expiring.id]);
    await expectInvalidToken(await withKey(expiring.key, 'GET', path));
  });

  it('is refused outside the applications API: account, key management, pages, end-user endpoints', async () => {
    const { id, key } = await newKey(alice);
    // Developer account and key management: the cookie only (the key is ignored, so: no session).
    for (const [method, path] of [
      ['GET', '/api/developer/me'],
      ['GET', '/api/developer/api-keys'],
      ['POST', '/api/developer/api-keys'],
      ['DELETE', `/api/developer/api-keys/${id}`],
    ] as const) {
      const res = await withKey(key, method, path, method === 'POST' ? { name: 'minted' } : undefined);
      expect([method, path, res.status]).toEqual([method, path, 401]);
      expect((await readJson(res)).error).toBe('unauthorized');
    }
    const list = await developerRequest(t.baseUrl, alice.cookie, 'GET', '/api/developer/api-keys');
    expect((await readJson<{ apiKeys: ApiKeyBody[] }>(list)).apiKeys.map((k) => k.name)).not.toContain('minted');
    expect((await row(id)).revoked_at).toBeNull();
    // Portal pages: a key is no session (sign-in redirect).
    for (const path of ['/developer/apps', '/developer/api-keys', `/developer/apps/${aliceApp.id}`]) {
      const res = await fetch(`${t.baseUrl}${path}`, { redirect: 'manual', headers: { authorization: `Bearer ${key}` } });
      expect([path, res.status]).toEqual([path, 303]);
      expect(res.headers.get('location')).toMatch(/^\/developer\/login/);
    }
    // The account center and its API, and the OAuth bearer endpoint.
    const account = await fetch(`${t.baseUrl}/account`, { redirect: 'manual', headers: { authorization: `Bearer ${key}` } });
    expect(account.status).toBe(303);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await currentUser(t.baseUrl, key)).res.status).toBe(401);
  });

  it('records the last use at most once a minute', async () => {
    const { id, key } = await newKey(alice);
    expect((await row(id)).last_used_at).toBeNull();
    expect((await withKey(key, 'GET', '/api/developer/applications')).status).toBe(200);
    const first = (await row(id)).last_used_at;
    expect(first).toBeInstanceOf(Date);
    expect((await withKey(key, 'GET', '/api/developer/applications')).status).toBe(200);
    expect((await row(id)).last_used_at).toEqual(first);
    // A minute later (the recorded use moved back), the next request records again.
    await db.query('UPDATE developer_api_keys SET last_used_at = ? WHERE id = ?', [new Date(Date.now() - 61_000), id]);
    expect((await withKey(key, 'GET', '/api/developer/applications')).status).toBe(200);
    expect((await row(id)).last_used_at!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const listed = (await readJson<{ apiKeys: ApiKeyBody[] }>(await developerRequest(t.baseUrl, alice.cookie, 'GET', '/api/developer/api-keys'))).apiKeys.find((k) => k.id === id)!;
    expect(listed.lastUsedAt).not.toBeNull();
  });

  it('rate limits each key: 429 with Retry-After past API_KEY_RATE_PER_MINUTE, other keys unaffected', async () => {
    const { key } = await newKey(alice);
    const other = await newKey(alice);
    const statuses: number[] = [];
    for (let i = 0; i < RATE; i++) statuses.push((await withKey(key, 'GET', '/api/developer/applications')).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const limited = await withKey(key, 'GET', '/api/developer/applications');
    expect(limited.status).toBe(429);
    expect((await readJson(limited)).error).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await withKey(other.key, 'GET', '/api/developer/applications')).status).toBe(200);
    // The cookie session is not limited by the key's window.
    expect((await developerRequest(t.baseUrl, alice.cookie, 'GET', '/api/developer/applications')).status).toBe(200);
  });

  it('portal page: create (shown once), list, revoke, with CSRF', async () => {
    const jar = new CookieJar().set(DEVELOPER_COOKIE, alice.sessionId);
    const page = await getPage(t.baseUrl, '/developer/api-keys', jar);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Create a key');

    // Without the form's token: refused, nothing written.
    const before = await keyCount();
    const forged = await postForm(t.baseUrl, '/developer/api-keys', { name: 'Forged' }, jar);
    expect(forged.status).toBe(403);
    expect(await keyCount()).toBe(before);

    // Bad input stays on the form.
    const invalid = await postForm(t.baseUrl, '/developer/api-keys', { _csrf: page.csrf!, name: 'Bad', expiresInDays: 'soon' }, jar);
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('Expires after');
    expect(await keyCount()).toBe(before);

    const fresh = await getPage(t.baseUrl, '/developer/api-keys', jar);
    const created = await postForm(t.baseUrl, '/developer/api-keys', { _csrf: fresh.csrf!, name: 'From the portal', expiresInDays: '7' }, jar);
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const html = await created.text();
    const key = /lsk_[A-Za-z0-9_-]{43}/.exec(html)?.[0];
    expect(key).toBeDefined();
    expect((await withKey(key!, 'GET', '/api/developer/applications')).status).toBe(200);

    // Listed afterwards without the key.
    const listed = await getPage(t.baseUrl, '/developer/api-keys', jar);
    expect(listed.html).toContain('From the portal');
    expect(listed.html).not.toContain(key!);
    const id = (await db.query<{ id: string }[]>("SELECT id FROM developer_api_keys WHERE name = 'From the portal'"))[0].id;

    // Revoke through the form.
    const revoke = await postForm(t.baseUrl, `/developer/api-keys/${id}/revoke`, { _csrf: listed.csrf! }, jar);
    expect(revoke.status).toBe(303);
    expect(revoke.headers.get('location')).toBe('/developer/api-keys?done=revoked');
    await expectInvalidToken(await withKey(key!, 'GET', '/api/developer/applications'));
    // Bob's form cannot revoke Alice's key.
    const other = await newKey(alice);
    const bobJar = new CookieJar().set(DEVELOPER_COOKIE, bob.sessionId);
    const bobPage = await getPage(t.baseUrl, '/developer/api-keys', bobJar);
    const bobRevoke = await postForm(t.baseUrl, `/developer/api-keys/${other.id}/revoke`, { _csrf: bobPage.csrf! }, bobJar);
    expect(bobRevoke.status).toBe(404);
    expect((await row(other.id)).revoked_at).toBeNull();
  });
});
