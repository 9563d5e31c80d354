import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { decrypt, sha256 } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { startApi, TestApp } from '../support/harness';
import { ApplicationList, createApplication, CreatedTestApplication, developerRequest, readJson, signUpDeveloper, TestDeveloper } from '../support/developer';
import { countRows, webhookSecretOf } from '../support/db';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const PUBLIC_FIELDS = [
  'clientId',
  'createdAt',
  'id',
  'idTokenSigningAlg',
  'logoUrl',
  'name',
  'redirectUris',
  'senderAddresses',
  'senderDomainVerifications',
  'senderDomains',
  'webhookUrl',
];
const APPS = '/api/developer/applications';

/** A row of the applications table, as far as these tests read it. */
interface ApplicationRow {
  developer_id: number;
  client_secret_hash: Buffer;
  webhook_secret_enc: string;
  redirect_uris: string;
  [column: string]: unknown;
}

describe('Developer Portal applications', () => {
  let t: TestApp;
  let dev: TestDeveloper;
  /** As `dev` unless another cookie is given; `null` = no session. */
  const req = (method: string, path: string, body?: unknown, cookie: string | null = dev.cookie, headers?: Record<string, string>) =>
    developerRequest(t.baseUrl, cookie ?? undefined, method, path, body, headers);
  const db = () => t.app.get(DataSource);
  const appCount = async () => await countRows(db(), 'SELECT COUNT(*) AS n FROM applications');
  const appRow = async (id: string) => (await db().query<ApplicationRow[]>('SELECT * FROM applications WHERE id = ?', [id]))[0];
  const service = () => t.app.get(ApplicationsService);
  const webhookSecret = (appId: string) => webhookSecretOf(t.app.get(DataSource), t.config.secrets.dataEncryptionKey, appId);

  beforeAll(async () => {
    t = await startApi();
    dev = await signUpDeveloper(t.baseUrl);
  });
  afterAll(() => t.close());

  describe('create', () => {
    it('answers 201 with the application, its client secret and webhook secret (shown once, not cached)', async () => {
      const res = await req('POST', APPS, {
        name: 'My App',
        redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:3000/cb?x=1'],
        webhookUrl: 'https://app.example.com/hooks',
        logoUrl: 'https://app.example.com/logo.png',
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const app = await readJson<CreatedTestApplication>(res);
      expect(app).toEqual({
        id: expect.stringMatching(/^app_[a-z0-9]{20}$/),
        name: 'My App',
        clientId: expect.stringMatching(/^ls_[a-z0-9]{24}$/),
        clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/),
        redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:3000/cb?x=1'],
        webhookUrl: 'https://app.example.com/hooks',
        webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        logoUrl: 'https://app.example.com/logo.png',
        senderDomains: [],
        senderAddresses: [],
        senderDomainVerifications: [],
        idTokenSigningAlg: 'RS256',
        createdAt: expect.stringMatching(ISO_UTC),
      });
      expect(Buffer.from(app.webhookSecret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    });

    it('stores only the SHA-256 of the client secret and the webhook secret encrypted', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const row = await appRow(app.id);
      expect(Buffer.compare(row.client_secret_hash, sha256(app.clientSecret))).toBe(0);
      const everything = JSON.stringify(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('base64url') + v.toString('latin1') : String(v))));
      expect(everything).not.toContain(app.clientSecret);
      expect(everything).not.toContain(app.webhookSecret);
      expect(everything).not.toContain(app.webhookSecret.slice('whsec_'.length));
      // Readable by the webhook signer, with the data encryption key only.
      expect(decrypt(t.config.secrets.dataEncryptionKey, row.webhook_secret_enc)).toBe(app.webhookSecret);
      expect(await webhookSecret(app.id)).toBe(app.webhookSecret);
      expect(row.developer_id).toBe(dev.id);
    });

    it('authenticates the client with its secret, and finds it by clientId', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const ok = await service().authenticateClient(app.clientId, app.clientSecret);
      expect(ok).toMatchObject({ id: app.id, developerId: dev.id, clientId: app.clientId, redirectUris: app.redirectUris });
      // One character changed (a secret may already end in 'A').
      expect(await service().authenticateClient(app.clientId, app.clientSecret.slice(0, -1) + (app.clientSecret.endsWith('A') ? 'B' : 'A'))).toBeNull();
      expect(await service().authenticateClient(app.clientId, '')).toBeNull();
      expect(await service().authenticateClient('ls_' + 'a'.repeat(24), app.clientSecret)).toBeNull();
      expect(await service().findByClientId(app.clientId)).toEqual({
        id: app.id,
        developerId: dev.id,
        name: app.name,
        logoUrl: null,
        clientId: app.clientId,
        redirectUris: app.redirectUris,
        webhookUrl: null,
        senderDomains: [],
        senderAddresses: [],
        senderDomainVerifications: [],
        idTokenSigningAlg: 'RS256',
        createdAt: expect.any(Date),
      });
      expect(await service().findByClientId('nope')).toBeNull();
    });

    it('defaults webhookUrl and logoUrl to null and ignores ids placed in the body', async () => {
      const victim = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('POST', APPS, {
        name: 'Sneaky',
        redirectUris: ['https://a.example/cb'],
        id: victim.id,
        clientId: victim.clientId,
        developerId: 999,
        clientSecret: 'chosen-by-me',
      });
      expect(res.status).toBe(201);
      const app = await readJson<CreatedTestApplication>(res);
      expect(app.id).not.toBe(victim.id);
      expect(app.clientId).not.toBe(victim.clientId);
      expect(app.clientSecret).not.toBe('chosen-by-me');
      expect(app.webhookUrl).toBeNull();
      expect(app.logoUrl).toBeNull();
      expect((await appRow(app.id)).developer_id).toBe(dev.id);
    });

    it('stores names with HTML, SQL and unicode exactly (trimmed)', async () => {
      const name = `<script>alert(1)</script>'; DROP TABLE applications; -- 😀`;
      const app = await createApplication(t.baseUrl, dev.cookie, { name: `  ${name}  ` });
      expect(app.name).toBe(name);
      expect(await readJson(await req('GET', `${APPS}/${app.id}`))).toMatchObject({ name });
    });
  });

  describe('redirect URI rules', () => {
    it.each([
      ['http on a public host', ['http://app.example.com/cb']],
      ['a fragment', ['https://app.example.com/cb#frag']],
      ['an empty fragment', ['https://app.example.com/cb#']],
      ['a wildcard path', ['https://app.example.com/*']],
      ['a wildcard host', ['https://*.example.com/cb']],
      ['a relative URL', ['/callback']],
      ['a scheme-relative URL', ['//app.example.com/cb']],
      ['userinfo', ['https://user@app.example.com/cb']],
      ['userinfo with password', ['https://user:pass@app.example.com/cb']],
      ['a custom scheme', ['com.example.app:/oauth']],
      ['javascript:', ['javascript:alert(1)']],
      ['no slashes after the scheme', ['https:app.example.com/cb']],
      ['an empty host', ['https:///cb']],
      ['spaces', ['https://app.example.com/a b']],
      ['a backslash', ['https://app.example.com\\@evil.example/cb']],
      ['an uppercase scheme', ['HTTPS://app.example.com/cb']],
      ['an empty string', ['']],
      ['a string that is not an array', 'https://app.example.com/cb'],
      ['an empty array', []],
      ['more than 20 URIs', Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`)],
      ['duplicates', ['https://app.example.com/cb', 'https://app.example.com/cb']],
      ['a non-string entry', ['https://app.example.com/cb', 42]],
      ['null', null],
      ['an over-long URI', [`https://app.example.com/${'a'.repeat(2048)}`]],
    ])('refuses %s with 400 invalid_request, at create and at update', async (_case, redirectUris) => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const before = await appCount();

      const created = await req('POST', APPS, { name: 'Bad', redirectUris });
      expect(created.status).toBe(400);
      const error = await readJson(created);
      expect(error).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('redirectUris') });
      expect(await appCount()).toBe(before);

      const updated = await req('PATCH', `${APPS}/${app.id}`, { redirectUris });
      expect(updated.status).toBe(400);
      expect((await readJson(updated)).error).toBe('invalid_request');
      expect(JSON.parse((await appRow(app.id)).redirect_uris)).toEqual(app.redirectUris);
    });

    it('stores accepted URIs exactly as given', async () => {
      const uris = ['https://App.Example.com:443/Call%20Back?a=1&b=2', 'http://LOCALHOST:5173/'];
      const app = await createApplication(t.baseUrl, dev.cookie, { redirectUris: uris });
      expect(app.redirectUris).toEqual(uris);
      expect((await service().findByClientId(app.clientId))!.redirectUris).toEqual(uris);
    });
  });

  describe('other field rules', () => {
    it.each([
      ['webhookUrl', 'ftp://app.example.com/hook'],
      ['webhookUrl', '/hooks'],
      ['webhookUrl', 'not a url'],
      ['webhookUrl', ''],
      ['webhookUrl', 42],
      ['logoUrl', 'http://app.example.com/logo.png'],
      ['logoUrl', 'data:image/png;base64,AAAA'],
      ['logoUrl', false],
      ['name', ''],
      ['name', '   '],
      ['name', 'x'.repeat(101)],
      ['name', 7],
      ['name', null],
    ])('refuses %s = %j with 400 naming the field, and writes nothing', async (field, value) => {
      const before = await appCount();
      const res = await req('POST', APPS, { name: 'App', redirectUris: ['https://a.example/cb'], [field]: value });
      expect(res.status).toBe(400);
      const error = await readJson(res);
      expect(error.error).toBe('invalid_request');
      expect(error.error_description).toContain(field);
      expect(await appCount()).toBe(before);
    });

    it('accepts an http webhook URL outside production', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie, { webhookUrl: 'http://127.0.0.1:9999/hook' });
      expect(app.webhookUrl).toBe('http://127.0.0.1:9999/hook');
    });

    it.each([
      ['missing name', { redirectUris: ['https://a.example/cb'] }, 'name'],
      ['missing redirectUris', { name: 'App' }, 'redirectUris'],
    ])('refuses a body with %s', async (_case, body, field) => {
      const before = await appCount();
      const res = await req('POST', APPS, body);
      expect(res.status).toBe(400);
      expect((await readJson(res)).error_description).toContain(field);
      expect(await appCount()).toBe(before);
    });

    it('answers malformed JSON, a non-object body and a 1 MB body with {error, error_description} errors, writing nothing', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const before = await appCount();
      for (const [method, path] of [
        ['POST', APPS],
        ['PATCH', `${APPS}/${app.id}`],
      ]) {
        const malformed = await req(method, path, '{"name": ');
        expect(malformed.status).toBe(400);
        expect((await readJson(malformed)).error).toBe('invalid_request');

        const array = await req(method, path, '["name"]');
        expect(array.status).toBe(400);
        expect((await readJson(array)).error).toBe('invalid_request');

        const huge = await req(method, path, { name: 'x'.repeat(1024 * 1024), redirectUris: ['https://a.example/cb'] });
        expect(huge.status).toBe(413);
        expect(await readJson(huge)).toEqual({ error: 'payload_too_large', error_description: expect.any(String) });
      }
      expect(await appCount()).toBe(before);
      expect((await appRow(app.id)).name).toBe(app.name);
    });
  });

  describe('list, get, update, delete', () => {
    it('lists the developer’s applications, newest first, without any secret', async () => {
      const other = await signUpDeveloper(t.baseUrl);
      const first = await createApplication(t.baseUrl, other.cookie, { name: 'First' });
      const second = await createApplication(t.baseUrl, other.cookie, { name: 'Second' });
      const res = await req('GET', APPS, undefined, other.cookie);
      expect(res.status).toBe(200);
      const { applications } = await readJson<ApplicationList>(res);
      expect(applications.map((a) => a.id)).toEqual([second.id, first.id]);
      for (const app of applications) expect(Object.keys(app).sort()).toEqual(PUBLIC_FIELDS);
      expect(JSON.stringify(applications)).not.toContain(first.clientSecret);
    });

    it('gets one application without secrets', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('GET', `${APPS}/${app.id}`);
      expect(res.status).toBe(200);
      const body = await readJson(res);
      const { clientSecret: _s, webhookSecret: _w, ...expected } = app;
      expect(body).toEqual(expected);
      expect(Object.keys(body).sort()).toEqual(PUBLIC_FIELDS);
    });

    it('updates the given fields only; null clears webhookUrl and logoUrl; ids in the body are ignored', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie, { webhookUrl: 'https://a.example/hook', logoUrl: 'https://a.example/logo.png' });
      const res = await req('PATCH', `${APPS}/${app.id}`, { name: 'Renamed', webhookUrl: null, id: 'app_aaaaaaaaaaaaaaaaaaaa', clientId: 'ls_mine' });
      expect(res.status).toBe(200);
      expect(await readJson(res)).toEqual({ ...app, clientSecret: undefined, webhookSecret: undefined, name: 'Renamed', webhookUrl: null });

      const res2 = await req('PATCH', `${APPS}/${app.id}`, { redirectUris: ['https://b.example/cb'], logoUrl: null, webhookUrl: 'https://b.example/hook' });
      expect(await readJson(res2)).toMatchObject({ name: 'Renamed', redirectUris: ['https://b.example/cb'], logoUrl: null, webhookUrl: 'https://b.example/hook' });

      const stored = await readJson(await req('GET', `${APPS}/${app.id}`));
      expect(stored).toMatchObject({
        id: app.id,
        clientId: app.clientId,
        name: 'Renamed',
        redirectUris: ['https://b.example/cb'],
        logoUrl: null,
        webhookUrl: 'https://b.example/hook',
      });
      // The client secret is untouched by a PATCH.
      expect(await service().authenticateClient(app.clientId, app.clientSecret)).not.toBeNull();
    });

    it('sets the registered relay senders (lower-cased, deduplicated) and keeps them until changed', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('PATCH', `${APPS}/${app.id}`, { senderDomains: ['Mail.Example.com', 'mail.example.com'], senderAddresses: ['News@Example.org'] });
      expect(res.status).toBe(200);
      expect(await readJson(res)).toMatchObject({
        senderDomains: ['mail.example.com'],
        senderAddresses: ['news@example.org'],
        senderDomainVerifications: [
          { domain: 'mail.example.com', name: '_loginsign.mail.example.com', value: expect.stringMatching(/^loginsign-verification=[0-9a-f]{32}$/), verified: false },
        ],
      });
      await req('PATCH', `${APPS}/${app.id}`, { name: 'Other' });
      expect(await readJson(await req('GET', `${APPS}/${app.id}`))).toMatchObject({ senderDomains: ['mail.example.com'], senderAddresses: ['news@example.org'] });
      const cleared = await readJson(await req('PATCH', `${APPS}/${app.id}`, { senderDomains: [] }));
      expect(cleared).toMatchObject({ senderDomains: [], senderAddresses: ['news@example.org'] });
    });

    it.each([
      ['name', 5],
      ['name', null],
      ['redirectUris', 'https://a.example/cb'],
      ['redirectUris', null],
      ['webhookUrl', 5],
      ['logoUrl', ['https://a.example/logo.png']],
      ['senderDomains', 'example.com'],
      ['senderDomains', ['not a domain']],
      ['senderDomains', ['loginsign.com']],
      ['senderAddresses', ['not-an-address']],
      ['senderAddresses', [5]],
      ['senderAddresses', null],
    ])('refuses PATCH %s = %j with 400 naming the field, changing nothing', async (field, value) => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('PATCH', `${APPS}/${app.id}`, { [field]: value });
      expect(res.status).toBe(400);
      expect((await readJson(res)).error_description).toContain(field);
      const { clientSecret: _s, webhookSecret: _w, ...unchanged } = app;
      expect(await readJson(await req('GET', `${APPS}/${app.id}`))).toEqual(unchanged);
    });

    it('deletes with 204; the application and its credentials are gone', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('DELETE', `${APPS}/${app.id}`);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      expect((await req('GET', `${APPS}/${app.id}`)).status).toBe(404);
      expect((await req('DELETE', `${APPS}/${app.id}`)).status).toBe(404);
      expect(await service().authenticateClient(app.clientId, app.clientSecret)).toBeNull();
      expect(await service().findByClientId(app.clientId)).toBeNull();
    });
  });

  describe('secret rotation', () => {
    it('rotates the client secret: the old one stops working at once, the new one works', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('POST', `${APPS}/${app.id}/client-secret`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await readJson<{ clientId: string; clientSecret: string }>(res);
      expect(body).toEqual({ clientId: app.clientId, clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/) });
      expect(body.clientSecret).not.toBe(app.clientSecret);
      expect(await service().authenticateClient(app.clientId, app.clientSecret)).toBeNull();
      expect(await service().authenticateClient(app.clientId, body.clientSecret)).toMatchObject({ id: app.id });
      expect(Buffer.compare((await appRow(app.id)).client_secret_hash, sha256(body.clientSecret))).toBe(0);
    });

    it('rotates the webhook secret', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const res = await req('POST', `${APPS}/${app.id}/webhook-secret`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await readJson<{ webhookSecret: string }>(res);
      expect(body).toEqual({ webhookSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) });
      expect(body.webhookSecret).not.toBe(app.webhookSecret);
      expect(await webhookSecret(app.id)).toBe(body.webhookSecret);
    });

    it('accepts a rotation POST with an empty JSON body too', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      expect((await req('POST', `${APPS}/${app.id}/client-secret`, {})).status).toBe(200);
    });
  });

  describe('unknown ids and tenant isolation', () => {
    it.each(['app_aaaaaaaaaaaaaaaaaaaa', 'nope', 'app_' + 'x'.repeat(90), "app_1' OR '1'='1"])('answers 404 not_found for the unknown id %j on every route', async (rawId) => {
      const id = encodeURIComponent(rawId);
      const before = await appCount();
      for (const [method, path, body] of [
        ['GET', `${APPS}/${id}`],
        ['PATCH', `${APPS}/${id}`, { name: 'X' }],
        ['DELETE', `${APPS}/${id}`],
        ['POST', `${APPS}/${id}/client-secret`],
        ['POST', `${APPS}/${id}/webhook-secret`],
      ] as [string, string, unknown?][]) {
        const res = await req(method, path, body);
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(await readJson(res)).toEqual({ error: 'not_found', error_description: expect.any(String) });
      }
      expect(await appCount()).toBe(before);
    });

    it('gives developer B a 404 on every route of developer A’s application, and A’s application is unchanged', async () => {
      const a = await signUpDeveloper(t.baseUrl);
      const b = await signUpDeveloper(t.baseUrl);
      const app = await createApplication(t.baseUrl, a.cookie, { webhookUrl: 'https://a.example/hook' });
      await createApplication(t.baseUrl, b.cookie);
      const rowBefore = await appRow(app.id);

      for (const [method, path, body] of [
        ['GET', `${APPS}/${app.id}`],
        ['PATCH', `${APPS}/${app.id}`, { name: 'Hijacked', redirectUris: ['https://evil.example/cb'] }],
        ['DELETE', `${APPS}/${app.id}`],
        ['POST', `${APPS}/${app.id}/client-secret`],
        ['POST', `${APPS}/${app.id}/webhook-secret`],
      ] as [string, string, unknown?][]) {
        const res = await req(method, path, body, b.cookie);
        expect([method, path, res.status]).toEqual([method, path, 404]);
        expect(await readJson(res)).toEqual({ error: 'not_found', error_description: expect.any(String) });
      }

      const bList = await readJson<ApplicationList>(await req('GET', APPS, undefined, b.cookie));
      expect(bList.applications.map((x) => x.id)).not.toContain(app.id);
      expect(await appRow(app.id)).toEqual(rowBefore);
      expect(await service().authenticateClient(app.clientId, app.clientSecret)).not.toBeNull();
      expect(await webhookSecret(app.id)).toBe(app.webhookSecret);
    });
  });

  describe('sessions and CSRF', () => {
    it('answers 401 unauthorized on every route without a session', async () => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const before = await appCount();
      for (const [method, path, body] of [
        ['GET', APPS],
        ['POST', APPS, { name: 'X', redirectUris: ['https://a.example/cb'] }],
        ['GET', `${APPS}/${app.id}`],
        ['PATCH', `${APPS}/${app.id}`, { name: 'X' }],
        ['DELETE', `${APPS}/${app.id}`],
        ['POST', `${APPS}/${app.id}/client-secret`],
        ['POST', `${APPS}/${app.id}/webhook-secret`],
      ] as [string, string, unknown?][]) {
        const res = await req(method, path, body, null);
        expect([method, path, res.status]).toEqual([method, path, 401]);
        expect(await readJson(res)).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
      }
      expect(await appCount()).toBe(before);
      expect(await service().authenticateClient(app.clientId, app.clientSecret)).not.toBeNull();
    });

    const valid = JSON.stringify({ name: 'CSRF', redirectUris: ['https://a.example/cb'] });
    it.each([
      ['a text/plain body', { 'content-type': 'text/plain' }],
      ['a form-encoded body', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ] as [string, Record<string, string>][])('refuses cookie-authenticated writes with %s (403 forbidden), writing nothing', async (_case, headers) => {
      const app = await createApplication(t.baseUrl, dev.cookie);
      const before = await appCount();
      const rowBefore = await appRow(app.id);
      const writes: [string, string, string | undefined][] = [
        ['POST', APPS, valid],
        ['PATCH', `${APPS}/${app.id}`, JSON.stringify({ name: 'Hijacked' })],
      ];
      // Body-less writes can only be refused by origin.
      if (!headers['content-type']) {
        writes.push(['DELETE', `${APPS}/${app.id}`, undefined], ['POST', `${APPS}/${app.id}/client-secret`, undefined], ['POST', `${APPS}/${app.id}/webhook-secret`, undefined]);
      }
      for (const [method, path, body] of writes) {
        const res = await req(method, path, body, dev.cookie, headers);
        expect([method, path, res.status]).toEqual([method, path, 403]);
        expect(await readJson(res)).toEqual({ error: 'forbidden', error_description: expect.any(String) });
      }
      expect(await appCount()).toBe(before);
      expect(await appRow(app.id)).toEqual(rowBefore);
    });

    it('accepts same-origin writes that say so', async () => {
      const res = await req('POST', APPS, JSON.parse(valid), dev.cookie, { origin: t.baseUrl, 'sec-fetch-site': 'same-origin' });
      expect(res.status).toBe(201);
    });
  });
});
