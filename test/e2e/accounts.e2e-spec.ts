import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { AccountBody, loginUser, sessionIdFrom, signUpUser, uniqueEmail } from '../support/accounts';
import { countRows, Row } from '../support/db';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('accounts: JSON API', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
  });
  afterAll(() => t.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
  const me = (cookie: string) => fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie } });

  it('signs up: 201, a Global ID, an HttpOnly SameSite=Lax session cookie that works on /me', async () => {
    const email = uniqueEmail();
    const res = await post('/api/account/signup', { name: 'Ada Lovelace', email, password: 'analytical engine', region: 'United Kingdom' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as AccountBody;
    expect(body).toEqual({ globalId: expect.stringMatching(/^[A-Z]{2}[0-9]{4}$/), name: 'Ada Lovelace', email });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ls_session='))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);

    const who = await me(cookie.split(';')[0]);
    expect(who.status).toBe(200);
    expect(await who.json()).toEqual({ globalId: body.globalId, name: 'Ada Lovelace', email, image: null, region: 'United Kingdom' });
  });

  it('normalises the email and stores the first linked address as linked and primary', async () => {
    const user = await signUpUser(t.baseUrl, { email: '  Mixed.Case@Example.COM ' });
    expect(user.email).toBe('mixed.case@example.com');
    const rows = await db.query<Row[]>('SELECT e.email, e.linked, e.is_primary FROM user_emails e JOIN users u ON u.id = e.user_id WHERE u.global_id = ?', [user.globalId]);
    expect(rows).toEqual([{ email: 'mixed.case@example.com', linked: 1, is_primary: 1 }]);
  });

  it('stores the password as an argon2id hash (19 MiB, t=2, p=1), never in plain', async () => {
    const password = 'plain-text-never-stored';
    const user = await signUpUser(t.baseUrl, { password });
    const [row] = await db.query<Row[]>('SELECT password_hash FROM users WHERE global_id = ?', [user.globalId]);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).not.toContain(password);
  });

  it('refuses a duplicate email with 409 conflict, also with different case and spaces', async () => {
    const user = await signUpUser(t.baseUrl);
    const before = await countRows(db, 'SELECT COUNT(*) AS n FROM users');
    for (const email of [user.email, `  ${user.email.toUpperCase()}  `]) {
      const res = await post('/api/account/signup', { name: 'Other', email, password: 'another password', region: 'France' });
      expect(res.status).toBe(409);
      expect(await res.json()).toEqual({ error: 'conflict', error_description: expect.any(String) });
    }
    const after = await countRows(db, 'SELECT COUNT(*) AS n FROM users');
    expect(Number(after)).toBe(Number(before));
  });

  it('lets exactly one of two concurrent sign-ups with the same email win (the other 409)', async () => {
    const email = uniqueEmail('race');
    const body = { name: 'Racer', email, password: 'racing password', region: 'Italy' };
    const results = await Promise.all([1, 2, 3].map(() => post('/api/account/signup', body)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const n = await countRows(db, 'SELECT COUNT(*) AS n FROM user_emails WHERE email = ?', [email]);
    expect(Number(n)).toBe(1);
    // The loser's user row was rolled back with its address.
    const [{ racers }] = await db.query<Row[]>("SELECT COUNT(*) AS racers FROM users WHERE name = 'Racer'");
    expect(Number(racers)).toBe(1);
  });

  it('gives distinct users distinct Global IDs', async () => {
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => signUpUser(t.baseUrl)));
    expect(new Set(users.map((u) => u.globalId)).size).toBe(5);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const user = await signUpUser(t.baseUrl);
    const wrong = await post('/api/account/login', { email: user.email, password: 'wrong password' });
    const unknown = await post('/api/account/login', { email: uniqueEmail('nobody'), password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const wrongBody = await wrong.json();
    expect(wrongBody).toEqual({ error: 'invalid_credentials', error_description: expect.any(String) });
    expect(await unknown.json()).toEqual(wrongBody);
    expect(wrong.headers.getSetCookie().some((c) => c.startsWith('ls_session='))).toBe(false);
  });

  it('logs in with a new session id every time (any case of the email)', async () => {
    const user = await signUpUser(t.baseUrl);
    const res = await post('/api/account/login', { email: user.email.toUpperCase(), password: user.password }, { cookie: user.cookie });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ globalId: user.globalId, name: user.name, email: user.email });
    const fresh = sessionIdFrom(res);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(user.sessionId);
    // The session the browser had before the login is gone; the new one works.
    expect((await me(user.cookie)).status).toBe(401);
    expect((await me(`ls_session=${fresh}`)).status).toBe(200);

    const again = await loginUser(t.baseUrl, user.email, user.password);
    expect(again.sessionId).not.toBe(fresh);
    expect(again.region).toBe(user.region);
  });

  it('logs out: 204, the cookie is cleared and the old cookie gets 401', async () => {
    const user = await signUpUser(t.baseUrl);
    expect((await me(user.cookie)).status).toBe(200);
    const res = await fetch(`${t.baseUrl}/api/account/logout`, { method: 'POST', headers: { cookie: user.cookie } });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().some((c) => /^ls_session=;/.test(c) && /(Max-Age=0|Expires=Thu, 01 Jan 1970)/i.test(c))).toBe(true);
    const after = await me(user.cookie);
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    // Logging out again is harmless.
    expect((await fetch(`${t.baseUrl}/api/account/logout`, { method: 'POST', headers: { cookie: user.cookie } })).status).toBe(204);
  });

  it('requires a session on /me', async () => {
    for (const cookie of ['', 'ls_session=nope', `ls_session=${'x'.repeat(500)}`]) {
      const res = await me(cookie);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    }
  });

  it('refuses cross-site JSON writes with 403 forbidden', async () => {
    const user = await signUpUser(t.baseUrl);
    const before = await countRows(db, 'SELECT COUNT(*) AS n FROM users');
    const cases: [string, unknown, Record<string, string>][] = [
      ['/api/account/signup', { name: 'X', email: uniqueEmail(), password: 'password123', region: 'Spain' }, { origin: 'https://evil.example' }],
      ['/api/account/signup', { name: 'X', email: uniqueEmail(), password: 'password123', region: 'Spain' }, { 'sec-fetch-site': 'cross-site' }],
      ['/api/account/login', { email: user.email, password: user.password }, { origin: 'https://evil.example' }],
      ['/api/account/logout', {}, { origin: 'https://evil.example', cookie: user.cookie }],
    ];
    for (const [path, body, headers] of cases) {
      const res = await post(path, body, headers);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'forbidden', error_description: expect.any(String) });
    }
    // A text/plain logout (what a cross-site form can send) is refused too.
    const plain = await fetch(`${t.baseUrl}/api/account/logout`, { method: 'POST', headers: { cookie: user.cookie, 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(403);
    expect((await me(user.cookie)).status).toBe(200);
    const after = await countRows(db, 'SELECT COUNT(*) AS n FROM users');
    expect(Number(after)).toBe(Number(before));
    // Same-origin requests pass.
    const ok = await post('/api/account/login', { email: user.email, password: user.password }, { origin: t.baseUrl, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(200);
  });
});
