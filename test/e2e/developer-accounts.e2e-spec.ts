import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { DEVELOPER_COOKIE, developerRequest, developerSessionFrom, readJson, signUpDeveloper, uniqueDeveloperEmail } from '../support/developer';
import { countRows, Row } from '../support/db';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('Developer Portal accounts', () => {
  let t: TestApp;
  const post = (path: string, body?: unknown, cookie?: string, headers?: Record<string, string>) => developerRequest(t.baseUrl, cookie, 'POST', path, body, headers);
  const me = (cookie?: string) => developerRequest(t.baseUrl, cookie, 'GET', '/api/developer/me');
  const developerCount = async () => await countRows(t.app.get(DataSource), 'SELECT COUNT(*) AS n FROM developers');

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  describe('signup', () => {
    it('creates the account, answers 201 {id, name, email} and signs in with an HttpOnly, SameSite=Lax cookie', async () => {
      const email = uniqueDeveloperEmail();
      const res = await post('/api/developer/signup', { name: '  Ada Lovelace ', email: `  ${email.toUpperCase()} `, password: 'analytical engine' });
      expect(res.status).toBe(201);
      const body = await readJson(res);
      expect(body).toEqual({ id: expect.any(Number), name: 'Ada Lovelace', email });

      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${DEVELOPER_COOKIE}=`))!;
      expect(setCookie).toMatch(/; HttpOnly/i);
      expect(setCookie).toMatch(/; SameSite=Lax/i);
      expect(setCookie).toMatch(/; Path=\//i);

      const who = await me(`${DEVELOPER_COOKIE}=${developerSessionFrom(res)}`);
      expect(who.status).toBe(200);
      const profile = await readJson(who);
      expect(profile).toEqual({ id: body.id, name: 'Ada Lovelace', email, createdAt: expect.stringMatching(ISO_UTC) });
    });

    it('stores an argon2id hash, never the password', async () => {
      const dev = await signUpDeveloper(t.baseUrl, { password: 'a secret password' });
      const [row] = await t.app.get(DataSource).query<Row[]>('SELECT password_hash FROM developers WHERE id = ?', [dev.id]);
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(row.password_hash).not.toContain('a secret password');
    });

    it('refuses a second account for the same email (case and spaces ignored) with 409 conflict', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      const before = await developerCount();
      const res = await post('/api/developer/signup', { name: 'Other', email: ` ${dev.email.toUpperCase()}`, password: 'another password' });
      expect(res.status).toBe(409);
      expect(await readJson(res)).toEqual({ error: 'conflict', error_description: expect.any(String) });
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await developerCount()).toBe(before);
    });

    it.each([
      ['missing name', { email: 'x@example.com', password: 'long enough' }, /name/],
      ['missing email', { name: 'X', password: 'long enough' }, /email/],
      ['missing password', { name: 'X', email: 'x@example.com' }, /password/],
      ['name of the wrong type', { name: 42, email: 'x@example.com', password: 'long enough' }, /name/],
      ['blank name', { name: '   ', email: 'x@example.com', password: 'long enough' }, /name/],
      ['email of the wrong type', { name: 'X', email: ['x@example.com'], password: 'long enough' }, /email/],
      ['invalid email', { name: 'X', email: 'not-an-email', password: 'long enough' }, /email/],
      ['short password', { name: 'X', email: 'x@example.com', password: 'short' }, /password/],
      ['password of the wrong type', { name: 'X', email: 'x@example.com', password: 12345678 }, /password/],
    ])('answers 400 invalid_request naming the field for %s, and writes nothing', async (_case, body, field) => {
      const before = await developerCount();
      const res = await post('/api/developer/signup', body);
      expect(res.status).toBe(400);
      const error = await readJson(res);
      expect(error.error).toBe('invalid_request');
      expect(error.error_description).toMatch(field);
      expect(await developerCount()).toBe(before);
    });

    it('answers malformed JSON, a non-object body and a 1 MB body with {error, error_description} errors', async () => {
      const before = await developerCount();
      const malformed = await post('/api/developer/signup', '{"name": "X", ');
      expect(malformed.status).toBe(400);
      expect((await readJson(malformed)).error).toBe('invalid_request');

      const array = await post('/api/developer/signup', '[1, 2]');
      expect(array.status).toBe(400);
      expect((await readJson(array)).error).toBe('invalid_request');

      const huge = await post('/api/developer/signup', { name: 'x'.repeat(1024 * 1024), email: 'big@example.com', password: 'long enough' });
      expect(huge.status).toBe(413);
      expect((await readJson(huge)).error).toBe('payload_too_large');
      expect(await developerCount()).toBe(before);
    });
  });

  describe('login', () => {
    it('answers 200 {id, name, email} with a new session id each time', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      const res = await post('/api/developer/login', { email: dev.email.toUpperCase(), password: dev.password });
      expect(res.status).toBe(200);
      expect(await readJson(res)).toEqual({ id: dev.id, name: dev.name, email: dev.email });
      const sessionId = developerSessionFrom(res);
      expect(sessionId).toBeDefined();
      expect(sessionId).not.toBe(dev.sessionId);
      expect((await me(`${DEVELOPER_COOKIE}=${sessionId}`)).status).toBe(200);
    });

    it('ends the session the browser presented (no session fixation)', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      const res = await post('/api/developer/login', { email: dev.email, password: dev.password }, dev.cookie);
      expect(res.status).toBe(200);
      expect(developerSessionFrom(res)).not.toBe(dev.sessionId);
      expect((await me(dev.cookie)).status).toBe(401);
    });

    it('gives the identical 401 for a wrong password and an unknown email', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      const wrong = await post('/api/developer/login', { email: dev.email, password: 'not the password' });
      const unknown = await post('/api/developer/login', { email: uniqueDeveloperEmail('nobody'), password: 'not the password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const [a, b] = [await readJson(wrong), await readJson(unknown)];
      expect(a).toEqual({ error: 'invalid_credentials', error_description: expect.any(String) });
      expect(b).toEqual(a);
      expect(wrong.headers.getSetCookie()).toEqual([]);
    });

    it.each([
      ['missing password', { email: 'x@example.com' }, /password/],
      ['missing email', { password: 'whatever1' }, /email/],
      ['wrong types', { email: 5, password: 'whatever1' }, /email/],
    ])('answers 400 invalid_request for %s', async (_case, body, field) => {
      const res = await post('/api/developer/login', body);
      expect(res.status).toBe(400);
      const error = await readJson(res);
      expect(error.error).toBe('invalid_request');
      expect(error.error_description).toMatch(field);
    });
  });

  describe('logout', () => {
    it('answers 204, clears the cookie and kills the session server-side', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      expect((await me(dev.cookie)).status).toBe(200);
      const res = await post('/api/developer/logout', undefined, dev.cookie);
      expect(res.status).toBe(204);
      const cleared = res.headers.getSetCookie().find((c) => c.startsWith(`${DEVELOPER_COOKIE}=`));
      expect(cleared).toMatch(/^ls_dev=;/);
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/i);

      // Replaying the old cookie does not help.
      const after = await me(dev.cookie);
      expect(after.status).toBe(401);
      expect(await readJson(after)).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    });

    it('is idempotent without a session', async () => {
      expect((await post('/api/developer/logout')).status).toBe(204);
    });
  });

  describe('me', () => {
    it('answers 401 unauthorized without a cookie or with a made-up one', async () => {
      for (const cookie of [undefined, `${DEVELOPER_COOKIE}=made-up`, `${DEVELOPER_COOKIE}=${'x'.repeat(500)}`]) {
        const res = await me(cookie);
        expect(res.status).toBe(401);
        expect(await readJson(res)).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
      }
    });

    it('does not accept an end-user session cookie', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      expect((await me(`ls_session=${dev.sessionId}`)).status).toBe(401);
    });
  });

  describe('CSRF on the pre-session writes', () => {
    it.each([
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ])('refuses signup, login and logout with %s (403 forbidden)', async (_case, headers) => {
      const dev = await signUpDeveloper(t.baseUrl);
      const before = await developerCount();
      const signup = await post('/api/developer/signup', { name: 'X', email: uniqueDeveloperEmail(), password: 'long enough' }, undefined, headers);
      const login = await post('/api/developer/login', { email: dev.email, password: dev.password }, undefined, headers);
      const logout = await post('/api/developer/logout', undefined, dev.cookie, headers);
      for (const res of [signup, login, logout]) {
        expect(res.status).toBe(403);
        expect(await readJson(res)).toEqual({ error: 'forbidden', error_description: expect.any(String) });
        expect(res.headers.getSetCookie()).toEqual([]);
      }
      expect(await developerCount()).toBe(before);
      expect((await me(dev.cookie)).status).toBe(200);
    });

    it('refuses text/plain and form-encoded bodies (what a cross-site form can send)', async () => {
      const before = await developerCount();
      const json = JSON.stringify({ name: 'X', email: uniqueDeveloperEmail(), password: 'long enough' });
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        const res = await post('/api/developer/signup', json, undefined, { 'content-type': type });
        expect(res.status).toBe(403);
        expect((await readJson(res)).error).toBe('forbidden');
      }
      expect(await developerCount()).toBe(before);
    });

    it('accepts the same-origin Origin header', async () => {
      const res = await post('/api/developer/signup', { name: 'X', email: uniqueDeveloperEmail(), password: 'long enough' }, undefined, {
        origin: t.baseUrl,
        'sec-fetch-site': 'same-origin',
      });
      expect(res.status).toBe(201);
    });
  });
});

describe('Developer login throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
  });
  afterAll(() => t.close());

  it('answers 429 rate_limited after too many failures, even with the right password, for that account only', async () => {
    const dev = await signUpDeveloper(t.baseUrl);
    const other = await signUpDeveloper(t.baseUrl);
    const login = (email: string, password: string) => developerRequest(t.baseUrl, undefined, 'POST', '/api/developer/login', { email, password });
    for (let i = 0; i < 3; i++) expect((await login(dev.email, 'wrong password')).status).toBe(401);

    const limited = await login(dev.email, dev.password);
    expect(limited.status).toBe(429);
    expect(await readJson(limited)).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.headers.getSetCookie()).toEqual([]);

    // Another account from the same IP is unaffected (per-IP limit is higher).
    expect((await login(other.email, other.password)).status).toBe(200);
  });

  it('counts failures for unknown emails too', async () => {
    const email = uniqueDeveloperEmail('ghost');
    const login = () => developerRequest(t.baseUrl, undefined, 'POST', '/api/developer/login', { email, password: 'whatever1' });
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(401);
    expect((await login()).status).toBe(429);
  });
});
