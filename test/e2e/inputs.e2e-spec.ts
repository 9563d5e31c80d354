import { DataSource } from 'typeorm';
import { LinkedEmailsService } from '@app/identity';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { developerRequest, readJson, signUpDeveloper, uniqueDeveloperEmail } from '../support/developer';
import { CookieJar, getPage } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';
import { rawRequest } from '../support/raw-http';
import { countRows } from '../support/db';

/** Matches any string (typed, so it can sit in typed expectations). */
const anyString: unknown = expect.any(String);

const SHAPE: Record<string, unknown> = { error: anyString, error_description: anyString };
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** `{"a":{"a":...}}` (or `[[...]]`) nested `depth` levels. */
function deepJson(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

describe('inputs: every input is answered in the `{ error, error_description }` shape', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);
  const count = async (table: string) => countRows(db(), `SELECT COUNT(*) AS n FROM ${table}`);

  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '1000' });
  });
  afterAll(() => t.close());

  describe('non-ASCII search terms and ids', () => {
    it('finds a user by a name in any script, in the API and the portal', async () => {
      const client = await createClientApp(t.baseUrl);
      const names = ['Jürgen Müller', 'Émile Zola', '日本 太郎', '😀 Smiley'];
      for (const name of names) {
        const { code, verifier } = await codeFor(t.baseUrl, client, await signUpUser(t.baseUrl, { name }));
        const { body } = await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier });
        expect((await currentUser(t.baseUrl, body.access_token)).res.status).toBe(200);
      }
      const search = async (term: string) => {
        const res = await developerRequest(t.baseUrl, client.developerCookie, 'GET', `/api/developer/applications/${client.id}/users?search=${encodeURIComponent(term)}`);
        return { status: res.status, body: await readJson<{ users: { name: string }[] }>(res) };
      };
      for (const [term, expected] of [
        ['Müller', []],
        ['Jürgen', ['Jürgen Müller']],
        ['é', ['Émile Zola']],
        ['日本', ['日本 太郎']],
        ['😀', ['😀 Smiley']],
        ['\u200b', []],
      ] as [string, string[]][]) {
        const { status, body } = await search(term);
        expect({ term, status }).toEqual({ term, status: 200 });
        expect(body.users.map((u) => u.name)).toEqual(expected);
      }
      const jar = new CookieJar().set('ls_dev', client.developerCookie.split('=')[1]);
      const page = await getPage(t.baseUrl, `/developer/apps/${client.id}/users?search=${encodeURIComponent('Jürgen')}`, jar);
      expect(page.res.status).toBe(200);
      expect(page.html).toContain('Jürgen Müller');
      for (const term of ['Müller', '日本', '😀', '\u200b']) {
        expect((await getPage(t.baseUrl, `/developer/apps/${client.id}/users?search=${encodeURIComponent(term)}`, jar)).res.status).toBe(200);
      }
    });

    it('answers 404 not_found for ids that cannot exist, in the API and on pages', async () => {
      const client = await createClientApp(t.baseUrl);
      const base = `/api/developer/applications/${client.id}`;
      for (const [method, path, body] of [
        ['PATCH', `${base}/users/%C3%A9`, { blocked: true }],
        ['DELETE', `${base}/users/%C3%A9`, undefined],
        ['GET', `${base}/users/%E6%97%A5`, undefined],
        ['GET', `${base}/webhooks/deliveries/%C3%A9`, undefined],
        ['POST', `${base}/webhooks/deliveries/%C3%A9/redeliver`, undefined],
        ['GET', `/api/developer/applications/%C3%A9`, undefined],
        ['GET', `${base}/users/a%E2%80%8Bb`, undefined],
      ] as [string, string, unknown][]) {
        const res = await developerRequest(t.baseUrl, client.developerCookie, method, path, body);
        expect({ method, path, status: res.status, body: await readJson(res) }).toEqual({
          method,
          path,
          status: 404,
          body: { error: 'not_found', error_description: anyString },
        });
      }
      const jar = new CookieJar().set('ls_dev', client.developerCookie.split('=')[1]);
      for (const path of [`/developer/apps/${client.id}/users/%C3%A9`, `/developer/apps/${client.id}/webhooks/%C3%A9`, `/developer/apps/%C3%A9/users`]) {
        const page = await getPage(t.baseUrl, path, jar);
        expect({ path, status: page.res.status, type: page.res.headers.get('content-type') }).toEqual({ path, status: 404, type: expect.stringMatching(/^text\/html/) as unknown });
      }
    });
  });

  describe('deeply nested JSON', () => {
    it('answers 400 invalid_request before validation, for objects and arrays', async () => {
      const dev = await signUpDeveloper(t.baseUrl);
      const before = await count('users');
      for (const kind of ['object', 'array'] as const) {
        const body = deepJson(10_000, kind);
        for (const [path, headers] of [
          ['/api/account/signup', {}],
          ['/api/developer/login', {}],
          ['/api/developer/applications', { cookie: dev.cookie }],
        ] as [string, Record<string, string>][]) {
          const res = await fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
          expect({ path, kind, status: res.status, body: await res.json() }).toEqual({
            path,
            kind,
            status: 400,
            body: { error: 'invalid_request', error_description: anyString },
          });
        }
      }
      // A field nested a little deeper than any body needs is refused the same way.
      const res = await fetch(`${t.baseUrl}/api/account/signup`, json(`{"name":${deepJson(40, 'object')}}`));
      expect(res.status).toBe(400);
      expect(await count('users')).toBe(before);
    });
  });

  describe('ill-formed UTF-16', () => {
    it('refuses a lone surrogate in an email or a name with 400, and stores nothing', async () => {
      const users = await count('users');
      const developers = await count('developers');
      const good = { name: 'Lone Surrogate', email: uniqueEmail(), password: 'correct horse battery staple', region: 'Germany' };
      for (const fields of [{ email: 'a\ud800@example.com' }, { email: '\udc00@example.com' }, { name: 'Bad \ud83d name' }, { region: '\udfff' }]) {
        const user = await fetch(`${t.baseUrl}/api/account/signup`, json({ ...good, ...fields }));
        expect({ fields, status: user.status, body: await user.json() }).toEqual({
          fields,
          status: 400,
          body: { error: 'invalid_request', error_description: anyString },
        });
        const developer = await fetch(`${t.baseUrl}/api/developer/signup`, json({ name: good.name, email: uniqueDeveloperEmail(), password: good.password, ...fields }));
        expect({ fields, status: developer.status }).toEqual({ fields, status: 400 });
      }
      // The JSON escape reaches the server as written (JSON.stringify would escape it the same way).
      const escaped = await fetch(
        `${t.baseUrl}/api/account/signup`,
        json(`{"name":"x\\ud800","email":"${uniqueEmail()}","password":"correct horse battery staple","region":"Germany"}`),
      );
      expect(escaped.status).toBe(400);
      expect(await count('users')).toBe(users);
      expect(await count('developers')).toBe(developers);
      // A well-formed pair (an emoji) is stored and answered exactly.
      const emoji = await fetch(`${t.baseUrl}/api/account/signup`, json({ ...good, name: 'Smile 😀' }));
      expect(emoji.status).toBe(201);
      expect(((await emoji.json()) as { name: string }).name).toBe('Smile 😀');
      const [row] = await db().query<{ name: string }[]>(`SELECT name FROM users ORDER BY id DESC LIMIT 1`);
      expect(row.name).toBe('Smile 😀');
    });
  });

  describe('one email rule for sign-up and login', () => {
    const login = (path: string, email: string, password: string) => fetch(`${t.baseUrl}${path}`, json({ email, password }));
    const invisible = ['\u0000', '\u0001', '\u200b', '\ufeff', '\u00ad'];

    it('refuses at sign-up and never signs in with invisible characters in the address', async () => {
      const user = await signUpUser(t.baseUrl);
      for (const ch of invisible) {
        const signup = await fetch(`${t.baseUrl}/api/account/signup`, json({ name: 'Twin', email: user.email + ch, password: 'correct horse battery staple', region: 'Germany' }));
        expect({ ch, status: signup.status }).toEqual({ ch, status: 400 });
        // Never the account; spellings that differ only by invisible characters share one failure budget.
        for (const spelling of [user.email + ch, user.email.replace('@', `${ch}@`)]) {
          const res = await login('/api/account/login', spelling, user.password);
          expect({ ch, refused: [401, 429].includes(res.status), body: await res.json() }).toEqual({ ch, refused: true, body: SHAPE });
        }
      }
      // Case and surrounding spaces are part of the normal form: still the same account.
      expect((await login('/api/account/login', ` ${user.email.toUpperCase()} `, user.password)).status).toBe(200);

      const dev = await signUpDeveloper(t.baseUrl);
      for (const ch of invisible) {
        expect([401, 429]).toContain((await login('/api/developer/login', dev.email + ch, dev.password)).status);
      }
      expect((await login('/api/developer/login', dev.email.toUpperCase(), dev.password)).status).toBe(200);
    });

    it('throttles the account, whatever the spelling of its address', async () => {
      const user = await signUpUser(t.baseUrl);
      for (let i = 0; i < 3; i++) expect((await login('/api/account/login', user.email, 'wrong password')).status).toBe(401);
      for (const spelling of [user.email, user.email.toUpperCase(), ` ${user.email}`, `${user.email}\t`]) {
        expect({ spelling, status: (await login('/api/account/login', spelling, user.password)).status }).toEqual({ spelling, status: 429 });
      }
      for (const ch of invisible) {
        expect((await login('/api/account/login', user.email + ch, user.password)).status).not.toBe(200);
      }

      const dev = await signUpDeveloper(t.baseUrl);
      for (let i = 0; i < 3; i++) expect((await login('/api/developer/login', dev.email, 'wrong password')).status).toBe(401);
      expect((await login('/api/developer/login', dev.email.toUpperCase(), dev.password)).status).toBe(429);
    });

    it("applies the rule to linked addresses and to an application's address", async () => {
      const user = await signUpUser(t.baseUrl);
      const [{ id: userId }] = await db().query<{ id: number }[]>(`SELECT user_id AS id FROM user_emails WHERE email = ?`, [user.email]);
      for (const email of [`x\u200b${uniqueEmail()}`, `${uniqueEmail()}\u0000`, `${uniqueEmail()}\ufeff`]) {
        await expect(t.app.get(LinkedEmailsService).requestLink(Number(userId), email)).rejects.toMatchObject({ code: 'invalid_request' });
      }

      const client = await createClientApp(t.baseUrl);
      const { code, verifier } = await codeFor(t.baseUrl, client, user, 'relay');
      const { body } = await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier });
      const connectionId = (await currentUser(t.baseUrl, body.access_token)).body.id;
      const patch = await developerRequest(t.baseUrl, client.developerCookie, 'PATCH', `/api/developer/applications/${client.id}/users/${connectionId}`, {
        appEmail: `${user.email}\u0000`,
      });
      expect(patch.status).toBe(400);
      expect(await readJson(patch)).toEqual({ error: 'invalid_request', error_description: anyString });
    });
  });

  describe('request ids and worker health', () => {
    it('keeps a well-formed x-request-id and replaces any other', async () => {
      const kept = await fetch(`${t.baseUrl}/health`, { headers: { 'x-request-id': 'abc-123.def_456:7' } });
      expect(kept.headers.get('x-request-id')).toBe('abc-123.def_456:7');
      for (const given of ['<script>alert(1)</script>', 'a'.repeat(300), 'has space', '../../etc', '']) {
        const res = await fetch(`${t.baseUrl}/health`, { headers: { 'x-request-id': given } });
        const id = res.headers.get('x-request-id');
        expect({ given, id }).toEqual({ given, id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
      }
    });

    it('answers /health/worker with up or down only', async () => {
      const res = await fetch(`${t.baseUrl}/health/worker`);
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text)).toEqual(SHAPE);
      expect(text).not.toMatch(/pid|jobs/i);
    });
  });

  describe('errors of the router and the HTTP layer', () => {
    const expectShape = (res: { status: number; headers: Record<string, string>; body: string }, status: number) => {
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(res.body) as unknown).toEqual(SHAPE);
      expect(res.body).not.toMatch(/FST_|statusCode|Client Error/);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBeDefined();
    };
    const host = () => new URL(t.baseUrl).host;

    it('answers bad percent-encoding and over-long path parameters in the `{ error, error_description }` shape', async () => {
      for (const path of ['/api/developer/applications/%FF', '/oauth/token/%E0%A4%A', '/health/%FF']) {
        expectShape(await rawRequest(t.baseUrl, [`GET ${path} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`]), 400);
      }
      const long = await rawRequest(t.baseUrl, [`GET /api/developer/applications/${'a'.repeat(150)} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`]);
      expectShape(long, 404);
      expect(long.body).not.toContain('aaaa');
      const page = await rawRequest(t.baseUrl, [`GET /developer/apps/%FF HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`]);
      expect(page.status).toBe(400);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
    });

    it('answers requests the HTTP parser refuses in the `{ error, error_description }` shape', async () => {
      const h = host();
      for (const request of [
        `FUZZ /api/developer/me HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
        `GET /api/developer/me HTTP/1.1\r\nHost: ${h}\r\nX-Bad: a\u0000b\r\n\r\n`,
        `POST /api/account/login HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        `POST /api/account/login HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      ]) {
        expectShape(await rawRequest(t.baseUrl, [request]), 400);
      }
      expectShape(await rawRequest(t.baseUrl, [`GET /api/developer/me HTTP/1.1\r\nHost: ${h}\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`]), 431);
      // A client that goes on sending after the refusal still reads the answer (no reset).
      const flood = await rawRequest(t.baseUrl, [
        `GET /api/developer/me HTTP/1.1\r\nHost: ${h}\r\nX-Big: `,
        ...Array.from({ length: 32 }, () => 'a'.repeat(64 * 1024)),
        '\r\n\r\n',
      ]);
      expect(flood.error).toBeNull();
      expectShape(flood, 431);
    });

    it('answers a missing Host and an unsupported Expect in the `{ error, error_description }` shape', async () => {
      expectShape(await rawRequest(t.baseUrl, [`GET /api/developer/me HTTP/1.1\r\nConnection: close\r\n\r\n`]), 400);
      expectShape(await rawRequest(t.baseUrl, [`GET /health HTTP/1.1\r\nHost: ${host()}\r\nExpect: fuzz\r\nConnection: close\r\n\r\n`]), 417);
    });
  });

  describe('oversized bodies', () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const head = (expect100: boolean) =>
      `POST /api/account/login HTTP/1.1\r\nHost: ${new URL(t.baseUrl).host}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n${expect100 ? 'Expect: 100-continue\r\n' : ''}\r\n`;

    const next = () => `GET /health HTTP/1.1\r\nHost: ${new URL(t.baseUrl).host}\r\nConnection: close\r\n\r\n`;
    const expect413ThenNext = (res: { status: number; body: string; error: string | null; raw: string }) => {
      expect(res.error).toBeNull();
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body) as unknown).toEqual({ error: 'payload_too_large', error_description: anyString });
      // The whole body was read and dropped: the connection still serves the next request.
      expect(res.raw).toMatch(/HTTP\/1\.1 200 OK\r\n[\s\S]*"status":"ok"/);
    };

    it('answers 413 payload_too_large to a client that sends the whole 5 MB body', async () => {
      expect413ThenNext(await rawRequest(t.baseUrl, [head(false), big, next()]));
    });

    it('answers 413 with Expect: 100-continue', async () => {
      let sent = false;
      const res = await rawRequest(t.baseUrl, [head(true)], {
        onData: (received, write) => {
          if (!sent && received.startsWith('HTTP/1.1 100')) {
            sent = true;
            write(big);
            write(next());
          }
        },
      });
      expect413ThenNext(res);
    });
  });
});
