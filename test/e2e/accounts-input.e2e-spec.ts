import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { CookieJar, getPage, postForm } from '../support/forms';
import { countRows } from '../support/db';
import { ErrorBody } from '../support/oauth';
import { AccountBody } from '../support/accounts';

describe('accounts: bad input on every endpoint', () => {
  let t: TestApp;
  let db: DataSource;
  let cookie: string;
  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
    cookie = (await signUpUser(t.baseUrl)).cookie;
  });
  afterAll(() => t.close());

  const countUsers = async () => await countRows(db, 'SELECT COUNT(*) AS n FROM users');
  const send = (path: string, body: string, contentType = 'application/json', extra: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...extra }, body });
  const valid = () => ({ name: 'Valid Name', email: uniqueEmail(), password: 'long enough pw', region: 'Japan' });

  let before: number;
  beforeEach(async () => {
    before = await countUsers();
  });
  afterEach(async () => {
    expect(await countUsers()).toBe(before);
  });

  async function expectError(res: Response, status: number, error: string, mention?: string) {
    expect(res.status).toBe(status);
    const body = (await res.json()) as ErrorBody;
    expect(body).toEqual({ error, error_description: expect.any(String) });
    if (mention) expect(body.error_description).toContain(mention);
  }

  it.each(['/api/account/signup', '/api/account/login'])('%s: malformed JSON, non-object bodies and an empty body are 400 invalid_request', async (path) => {
    for (const body of ['{"name": ', '{bad json}', '[]', '"text"', '42', 'null', '']) {
      await expectError(await send(path, body), 400, 'invalid_request');
    }
  });

  it('signup: wrong types are 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 123 }, 'name'],
      [{ name: ['a'] }, 'name'],
      [{ email: 42 }, 'email'],
      [{ email: { $gt: '' } }, 'email'],
      [{ password: 12345678 }, 'password'],
      [{ password: null }, 'password'],
      [{ region: true }, 'region'],
    ];
    for (const [override, field] of cases) {
      await expectError(await send('/api/account/signup', JSON.stringify({ ...valid(), ...override })), 400, 'invalid_request', field);
    }
  });

  it('signup: missing fields and out-of-range values are 400 naming the field', async () => {
    for (const field of ['name', 'email', 'password', 'region']) {
      const body: Record<string, unknown> = valid();
      delete body[field];
      await expectError(await send('/api/account/signup', JSON.stringify(body)), 400, 'invalid_request', field);
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'name'],
      [{ name: '    ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ email: 'not-an-email' }, 'email'],
      [{ email: `${'a'.repeat(320)}@example.com` }, 'email'],
      [{ password: 'short' }, 'password'],
      [{ password: 'p'.repeat(129) }, 'password'],
      [{ region: '' }, 'region'],
      [{ region: '   ' }, 'region'],
      [{ region: 'r'.repeat(101) }, 'region'],
    ];
    for (const [override, field] of cases) {
      await expectError(await send('/api/account/signup', JSON.stringify({ ...valid(), ...override })), 400, 'invalid_request', field);
    }
  });

  it('login: wrong types and missing fields are 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ password: 'pw123456' }, 'email'],
      [{ email: 'a@example.com' }, 'password'],
      [{ email: 1, password: 'pw123456' }, 'email'],
      [{ email: 'a@example.com', password: true }, 'password'],
      [{ email: 'a@example.com', password: { $ne: null } }, 'password'],
    ];
    for (const [body, field] of cases) {
      await expectError(await send('/api/account/login', JSON.stringify(body)), 400, 'invalid_request', field);
    }
  });

  it.each(['/api/account/signup', '/api/account/login', '/api/account/logout'])('%s: a 1 MB body is 413 payload_too_large', async (path) => {
    const body = JSON.stringify({ ...valid(), name: 'x'.repeat(1024 * 1024) });
    await expectError(await send(path, body, 'application/json', { cookie }), 413, 'payload_too_large');
  });

  it('text/plain and form bodies: 415 on signup/login, 403 on the cookie-authenticated logout', async () => {
    for (const path of ['/api/account/signup', '/api/account/login']) {
      await expectError(await send(path, JSON.stringify(valid()), 'text/plain'), 415, 'unsupported_media_type');
      await expectError(await send(path, new URLSearchParams(valid()).toString(), 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
      // From another site the CSRF rule answers first.
      await expectError(await send(path, JSON.stringify(valid()), 'text/plain', { origin: 'https://evil.example' }), 403, 'forbidden');
    }
    await expectError(await send('/api/account/logout', '{}', 'text/plain', { cookie }), 403, 'forbidden');
    await expectError(await send('/api/account/logout', 'a=b', 'application/x-www-form-urlencoded', { cookie }), 403, 'forbidden');
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie } })).status).toBe(200);
  });

  it('HTML forms: JSON bodies are 415, 1 MB is 413, both as pages', async () => {
    const jar = new CookieJar();
    const { csrf } = await getPage(t.baseUrl, '/signup', jar);
    for (const path of ['/signup', '/login']) {
      const json = await send(path, JSON.stringify({ ...valid(), _csrf: csrf }), 'application/json', { cookie: jar.header() });
      expect(json.status).toBe(415);
      expect(json.headers.get('content-type')).toMatch(/^text\/html/);
      const big = await postForm(t.baseUrl, path, { ...valid(), _csrf: csrf!, name: 'x'.repeat(1024 * 1024) }, jar);
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('HTML sign-up form: repeated fields and bad values re-render with 400', async () => {
    const jar = new CookieJar();
    const { csrf } = await getPage(t.baseUrl, '/signup', jar);
    const fields = valid();
    const repeated = await postForm(
      t.baseUrl,
      '/signup',
      [
        ['_csrf', csrf!],
        ['name', 'A'],
        ['name', 'B'],
        ['email', fields.email],
        ['password', fields.password],
        ['region', fields.region],
      ],
      jar,
    );
    expect(repeated.status).toBe(400);
    expect(await repeated.text()).toContain('Name must be');
    const badEmail = await postForm(t.baseUrl, '/signup', { ...fields, email: 'nope', _csrf: csrf! }, jar);
    expect(badEmail.status).toBe(400);
    expect(await badEmail.text()).toContain('Email must be a valid email address.');
  });
});

describe('accounts: hostile but valid input is stored as given', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('keeps SQL, HTML and unicode in names verbatim and ignores ids placed in the body', async () => {
    const name = `Robert'); DROP TABLE users;-- <b>bold</b> Zoë 🦊`;
    const res = await fetch(`${t.baseUrl}/api/account/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, email: uniqueEmail(), password: 'p\u0000ss word 🦊', region: "Côte d'Ivoire", globalId: 'ZZ9999', id: 1, image: 'https://evil.example/x.png' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as AccountBody;
    expect(body.name).toBe(name);
    expect(body.globalId).toMatch(/^[A-Z]{2}[0-9]{4}$/);
    const cookie = res.headers.getSetCookie()[0].split(';')[0];
    const me = (await (await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie } })).json()) as AccountBody;
    expect(me).toEqual({ globalId: body.globalId, name, email: body.email, image: null, region: "Côte d'Ivoire" });
    const login = await fetch(`${t.baseUrl}/api/account/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: body.email, password: 'p\u0000ss word 🦊' }),
    });
    expect(login.status).toBe(200);
  });
});
