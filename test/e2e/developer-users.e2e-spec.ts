import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { encodeCursor } from '@app/common';
import { confirmSignUpAddress, signUpUser, TestUser } from '../support/accounts';
import { createApplication, developerRequest, PortalUser, readJson, signUpDeveloper, TestDeveloper, UsersPage } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, codeFor, currentUser, exchangeCode } from '../support/oauth';
import { countRows, Row, webhookEvents } from '../support/db';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RELAY = /^[a-z0-9]{6}@loginsign\.com$/;
const USER_FIELDS = ['active', 'blocked', 'email', 'emailMuted', 'globalId', 'id', 'isForwarding', 'joined', 'lastSession', 'name', 'region', 'sessions'];
const REDIRECT_URI = 'https://client.example/cb';
const WEBHOOK_URL = 'https://hooks.example.com/loginsign';

interface DevApp extends ClientApp {
  developer: TestDeveloper;
}

interface Connected {
  user: TestUser;
  token: string;
  connectionId: string;
  /** What /api/user returned as email at sign-in. */
  email: string | null;
}

describe('Developer Portal: users of an application', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  /** A developer and one of their applications (with a webhook URL when asked). */
  async function devApp(options: { webhook?: boolean; developer?: TestDeveloper } = {}): Promise<DevApp> {
    const developer = options.developer ?? (await signUpDeveloper(t.baseUrl));
    const app = await createApplication(t.baseUrl, developer.cookie, { redirectUris: [REDIRECT_URI], webhookUrl: options.webhook ? WEBHOOK_URL : null });
    return { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie, developer };
  }

  /** Signs a user (a fresh one by default) in to the app: consent, code, token, /api/user. */
  async function connect(app: ClientApp, user?: TestUser, share = 'relay'): Promise<Connected> {
    const { code, verifier, user: who } = await codeFor(t.baseUrl, app, user, share);
    const { res, body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
    const profile = await currentUser(t.baseUrl, body.access_token);
    return { user: who, token: body.access_token, connectionId: profile.body.id, email: profile.body.email };
  }

  const usersPath = (appId: string, query: Record<string, string> = {}) => {
    const qs = new URLSearchParams(query).toString();
    return `/api/developer/applications/${appId}/users${qs ? `?${qs}` : ''}`;
  };
  const list = async (app: DevApp, query: Record<string, string> = {}, cookie = app.developerCookie) => {
    const res = await developerRequest(t.baseUrl, cookie, 'GET', usersPath(app.id, query));
    return { res, body: await readJson<UsersPage>(res) };
  };
  const patch = async (app: DevApp, connectionId: string, body: unknown, cookie = app.developerCookie, headers?: Record<string, string>) => {
    const res = await developerRequest(t.baseUrl, cookie, 'PATCH', `${usersPath(app.id)}/${connectionId}`, body, headers);
    return { res, body: await readJson<Partial<PortalUser> & { error?: string; error_description?: string }>(res) };
  };
  const remove = (app: DevApp, connectionId: string, cookie = app.developerCookie) => developerRequest(t.baseUrl, cookie, 'DELETE', `${usersPath(app.id)}/${connectionId}`);

  const events = (appId: string) => webhookEvents(db(), appId);
  const eventCount = async () => await countRows(db(), 'SELECT COUNT(*) AS n FROM webhook_events');
  const connectionRow = async (id: string) => (await db().query<Row[]>('SELECT * FROM connections WHERE id = ?', [id]))[0];
  const counts = async (appId: string) => {
    const [row] = await db().query<Row[]>(
      'SELECT COUNT(*) AS n, SUM(active) AS active, SUM(inactive) AS inactive, SUM(blocked) AS blocked FROM application_user_counts WHERE application_id = ?',
      [appId],
    );
    return Number(row.n) > 0 ? { active: Number(row.active), inactive: Number(row.inactive), blocked: Number(row.blocked) } : null;
  };
  /** The counters must always equal a real COUNT over the connections. */
  const expectCountsExact = async (appId: string) => {
    const [real] = await db().query<Row[]>(
      `SELECT COALESCE(SUM(blocked = 0 AND active = 1), 0) AS active, COALESCE(SUM(blocked = 0 AND active = 0), 0) AS inactive,
              COALESCE(SUM(blocked = 1), 0) AS blocked FROM connections WHERE application_id = ?`,
      [appId],
    );
    expect((await counts(appId)) ?? { active: 0, inactive: 0, blocked: 0 }).toEqual({
      active: Number(real.active),
      inactive: Number(real.inactive),
      blocked: Number(real.blocked),
    });
  };
  const authorizeParams = (app: ClientApp) => ({ response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 'st' });

  describe('connections at consent', () => {
    it('copies the Global ID and name, counts the user and records user_connected once', async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      const row = await connectionRow(c.connectionId);
      expect(row.user_global_id).toBe(c.user.globalId);
      expect(row.user_name).toBe(c.user.name);
      expect(await counts(app.id)).toEqual({ active: 1, inactive: 0, blocked: 0 });
      // A second sign-in (remembered consent) and a re-consent with new scopes are not new connections.
      await connect(app, c.user);
      expect(await events(app.id)).toEqual([{ type: 'user_connected', data: { applicationId: app.id, connectionId: c.connectionId, globalId: c.user.globalId } }]);
      await expectCountsExact(app.id);
    });

    it('records no event for an application without a webhook URL', async () => {
      const app = await devApp();
      await connect(app);
      expect(await events(app.id)).toEqual([]);
      expect(await counts(app.id)).toEqual({ active: 1, inactive: 0, blocked: 0 });
    });
  });

  describe('GET .../users', () => {
    it('returns the documented user fields plus isForwarding, with the right types', async () => {
      const app = await devApp();
      const user = await signUpUser(t.baseUrl, { name: 'Ada Lovelace', region: 'United Kingdom' });
      const c = await connect(app, user);
      const { res, body } = await list(app);
      expect(res.status).toBe(200);
      expect(Object.keys(body).sort()).toEqual(['nextCursor', 'total', 'users']);
      expect(body.total).toBe(1);
      expect(body.nextCursor).toBeNull();
      const [u] = body.users;
      expect(Object.keys(u).sort()).toEqual(USER_FIELDS);
      expect(u).toEqual({
        id: c.connectionId,
        globalId: user.globalId,
        name: 'Ada Lovelace',
        email: c.email,
        active: true,
        blocked: false,
        emailMuted: false,
        isForwarding: true,
        sessions: 1,
        lastSession: expect.stringMatching(ISO_UTC),
        joined: expect.stringMatching(ISO_UTC),
        region: 'United Kingdom',
      });
      expect(u.email).toMatch(RELAY);
      expect(u.globalId).toMatch(/^[A-Z]{2}[0-9]{4}$/);
    });

    it('shows "-" as email when nothing is shared, and a linked address when it is', async () => {
      const app = await devApp();
      const hidden = await connect(app, undefined, 'none');
      const plain = await signUpUser(t.baseUrl);
      await confirmSignUpAddress(t.baseUrl, plain);
      await connect(app, plain, plain.email);
      const { body } = await list(app);
      const byId = Object.fromEntries(body.users.map((u) => [u.id, u]));
      expect(byId[hidden.connectionId].email).toBe('-');
      expect(hidden.email).toBeNull();
      expect(body.users.find((u) => u.globalId === plain.globalId)!.email).toBe(plain.email);
    });

    it('walks every connection exactly once, newest first, while new ones are added between pages', async () => {
      const app = await devApp();
      for (let i = 0; i < 7; i++) await connect(app);
      // Ties on joined_at are broken by id, also across page boundaries.
      await db().query(`UPDATE connections SET joined_at = '2024-01-01 10:00:00.000' WHERE application_id = ? ORDER BY joined_at LIMIT 4`, [app.id]);
      const initial = (await list(app, { limit: '100' })).body.users.map((u) => u.id);
      expect(initial).toHaveLength(7);

      for (const limit of [2, 3]) {
        const seen: string[] = [];
        const added: string[] = [];
        let cursor: string | null = null;
        do {
          const query: Record<string, string> = { limit: String(limit), ...(cursor ? { cursor } : {}) };
          // A new connection is made at the same time as each later page is read.
          const [page, extra]: [Awaited<ReturnType<typeof list>>, Connected | null] = await Promise.all([list(app, query), cursor ? connect(app) : Promise.resolve(null)]);
          if (extra) added.push(extra.connectionId);
          expect(page.res.status).toBe(200);
          expect(page.body.users.length).toBeLessThanOrEqual(limit);
          seen.push(...page.body.users.map((u) => u.id));
          cursor = page.body.nextCursor;
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toEqual(initial);
        // The new ones are at the head, newest first.
        const now = (await list(app, { limit: '100' })).body;
        expect(now.users.slice(0, added.length).map((u) => u.id)).toEqual([...added].reverse());
        expect(now.total).toBe(initial.length + added.length);
        initial.unshift(...[...added].reverse());
      }
    });

    it('walks searched and filtered lists page by page, ties broken by id, with the filtered total on every page', async () => {
      const app = await devApp();
      const tag = randomBytes(3).toString('hex');
      const all: Connected[] = [];
      for (let i = 0; i < 6; i++) all.push(await connect(app, await signUpUser(t.baseUrl, { name: `Kit ${tag} ${i}` })));
      await connect(app); // someone else, never matched
      for (const c of all.slice(0, 2)) await patch(app, c.connectionId, { blocked: true });
      await db().query(`UPDATE connections SET joined_at = '2024-02-02 12:00:00.000' WHERE id IN (?)`, [all.map((c) => c.connectionId)]);
      const byIdDesc = (cs: Connected[]) =>
        cs
          .map((c) => c.connectionId)
          .sort()
          .reverse();

      const walk = async (query: Record<string, string>) => {
        const ids: string[] = [];
        const totals = new Set<number>();
        let cursor: string | null = null;
        do {
          const { body }: { body: UsersPage } = await list(app, { ...query, ...(cursor ? { cursor } : {}) });
          ids.push(...body.users.map((u) => u.id));
          totals.add(body.total);
          cursor = body.nextCursor;
        } while (cursor);
        return { ids, totals: [...totals] };
      };
      expect(await walk({ search: `Kit ${tag}`, limit: '2' })).toEqual({ ids: byIdDesc(all), totals: [6] });
      expect(await walk({ status: 'blocked', limit: '1' })).toEqual({ ids: byIdDesc(all.slice(0, 2)), totals: [2] });
      expect(await walk({ search: `kit ${tag}`, status: 'active', limit: '3' })).toEqual({ ids: byIdDesc(all.slice(2)), totals: [4] });

      // A cursor whose following rows are gone: an empty last page that still counts the matches.
      const first = (await list(app, { search: `Kit ${tag}`, limit: '5' })).body;
      const lastId = byIdDesc(all)[5];
      expect((await remove(app, lastId)).status).toBe(204);
      expect((await list(app, { search: `Kit ${tag}`, limit: '5', cursor: first.nextCursor! })).body).toEqual({ users: [], total: 5, nextCursor: null });
    });

    it('orders by joined desc and returns nextCursor null exactly on the last page', async () => {
      const app = await devApp();
      for (let i = 0; i < 4; i++) await connect(app);
      const first = (await list(app, { limit: '2' })).body;
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = (await list(app, { limit: '2', cursor: first.nextCursor! })).body;
      expect(second.users).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
      const joined = [...first.users, ...second.users].map((u) => u.joined);
      expect([...joined].sort().reverse()).toEqual(joined);
      const empty = await devApp();
      expect((await list(empty)).body).toEqual({ users: [], total: 0, nextCursor: null });
    });

    describe('search, status and total', () => {
      let app: DevApp;
      let ada: Connected;
      let bob: Connected;
      let cyd: Connected;
      let dee: Connected;
      const tag = randomBytes(3).toString('hex');

      beforeAll(async () => {
        app = await devApp();
        ada = await connect(app, await signUpUser(t.baseUrl, { name: `Zora ${tag} One` }));
        bob = await connect(app, await signUpUser(t.baseUrl, { name: `Zora ${tag} Two` }));
        const cydUser = await signUpUser(t.baseUrl, { name: `Quinn ${tag}`, email: `quinn-${tag}@example.com` });
        await confirmSignUpAddress(t.baseUrl, cydUser);
        cyd = await connect(app, cydUser, cydUser.email);
        dee = await connect(app, await signUpUser(t.baseUrl, { name: `Wren_${tag}%` }), 'none');
        // bob: blocked; dee: revoked consent (inactive).
        expect((await patch(app, bob.connectionId, { blocked: true })).res.status).toBe(200);
        await db().query('UPDATE connections SET active = 0 WHERE id = ?', [dee.connectionId]);
        await db().query(
          'INSERT INTO application_user_counts (application_id, slot, active, inactive) VALUES (?, 0, -1, 1) ON DUPLICATE KEY UPDATE active = active - 1, inactive = inactive + 1',
          [app.id],
        );
      });

      const ids = (body: { users: { id: string }[] }) => body.users.map((u) => u.id).sort();

      it.each([
        ['a whole Global ID', () => ada.user.globalId, () => [ada]],
        ['a lower-case Global ID', () => ada.user.globalId.toLowerCase(), () => [ada]],
        ['a name prefix', () => `Zora ${tag}`, () => [ada, bob]],
        ['a name prefix in another case', () => `zora ${tag} t`, () => [bob]],
        ['a relay address', () => ada.email!, () => [ada]],
        ['a relay address prefix', () => ada.email!.slice(0, 6), () => [ada]],
        ['a shared real address', () => `quinn-${tag}@example.com`, () => [cyd]],
        ['LIKE wildcards taken literally', () => `Wren_${tag}%`, () => [dee]],
      ])('finds users by %s, and counts them', async (_, term, expected) => {
        const { res, body } = await list(app, { search: term() });
        expect(res.status).toBe(200);
        expect(ids(body)).toEqual(
          expected()
            .map((c) => c.connectionId)
            .sort(),
        );
        expect(body.total).toBe(expected().length);
      });

      it('matches prefixes only, and wildcards are not wildcards', async () => {
        for (const term of [tag, '%', '_', `Wren%${tag}`, `Zora_${tag}`, 'loginsign.com', `${ada.user.globalId}x`]) {
          const { body } = await list(app, { search: term });
          expect({ term, users: body.users, total: body.total }).toEqual({ term, users: [], total: 0 });
        }
      });

      it('filters by status with the matching total', async () => {
        const active = (await list(app, { status: 'active' })).body;
        expect(ids(active)).toEqual([ada.connectionId, cyd.connectionId].sort());
        expect(active.total).toBe(2);
        const blocked = (await list(app, { status: 'blocked' })).body;
        expect(ids(blocked)).toEqual([bob.connectionId]);
        expect(blocked.total).toBe(1);
        expect(blocked.users[0]).toMatchObject({ blocked: true, active: true });
        const inactive = (await list(app, { status: 'inactive' })).body;
        expect(ids(inactive)).toEqual([dee.connectionId]);
        expect(inactive.total).toBe(1);
        expect(inactive.users[0]).toMatchObject({ blocked: false, active: false });
        const all = (await list(app)).body;
        expect(all.total).toBe(4);
        await expectCountsExact(app.id);
      });

      it('combines search and status, and pages through a search', async () => {
        const both = (await list(app, { search: `Zora ${tag}`, status: 'active' })).body;
        expect(ids(both)).toEqual([ada.connectionId]);
        expect(both.total).toBe(1);
        expect((await list(app, { search: `Zora ${tag}`, status: 'inactive' })).body).toEqual({ users: [], total: 0, nextCursor: null });
        const first = (await list(app, { search: `Zora ${tag}`, limit: '1' })).body;
        expect(first.total).toBe(2);
        const second = (await list(app, { search: `Zora ${tag}`, limit: '1', cursor: first.nextCursor! })).body;
        expect(second.nextCursor).toBeNull();
        expect(second.total).toBe(2);
        expect([first.users[0].id, second.users[0].id].sort()).toEqual([ada.connectionId, bob.connectionId].sort());
      });
    });

    it.each([
      ['limit=0', { limit: '0' }],
      ['limit=101', { limit: '101' }],
      ['limit=abc', { limit: 'abc' }],
      ['limit=-1', { limit: '-1' }],
      ['limit=1.5', { limit: '1.5' }],
      ['limit empty', { limit: '' }],
      ['a garbled cursor', { cursor: 'not-a-cursor' }],
      ['an empty cursor', { cursor: '' }],
      ['an unknown status', { status: 'deleted' }],
      ['a search over 320 characters', { search: 'a'.repeat(321) }],
    ])('answers 400 invalid_request for %s', async (_, query) => {
      const app = await devApp();
      const { res, body } = await list(app, query);
      expect(res.status).toBe(400);
      expect(body.error).toBe('invalid_request');
      expect(typeof body.error_description).toBe('string');
    });

    it('refuses a repeated parameter and a forged or tampered cursor', async () => {
      const app = await devApp();
      for (let i = 0; i < 3; i++) await connect(app);
      const repeated = await developerRequest(t.baseUrl, app.developerCookie, 'GET', `${usersPath(app.id)}?limit=1&limit=2`);
      expect(repeated.status).toBe(400);
      const { body } = await list(app, { limit: '1' });
      const [payload, mac] = body.nextCursor!.split('.');
      const forgedBody = Buffer.from(JSON.stringify([Date.now() + 1e9, 'c_zzzzzzzzzzzzzzzzzzzz'])).toString('base64url');
      for (const cursor of [`${forgedBody}.${mac}`, `${payload}.${mac.slice(0, -2)}AA`, payload, `${payload}.`, `.${mac}`, `${body.nextCursor}x`]) {
        const res = await list(app, { cursor });
        expect({ cursor, status: res.res.status, error: res.body.error }).toEqual({ cursor, status: 400, error: 'invalid_request' });
      }
      // A cursor signed by another server (another secret) is refused too.
      const alien = encodeCursor(randomBytes(32), new Date(), 'c_x');
      expect((await list(app, { cursor: alien })).res.status).toBe(400);
    });

    it('needs a developer session', async () => {
      const app = await devApp();
      const res = await developerRequest(t.baseUrl, undefined, 'GET', usersPath(app.id));
      expect(res.status).toBe(401);
      expect((await readJson(res)).error).toBe('unauthorized');
    });
  });

  describe('PATCH .../users/:connectionId', () => {
    it('changes each field alone, records one event per real change, and nothing for a no-op', async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      const base = { applicationId: app.id, connectionId: c.connectionId, globalId: c.user.globalId };
      const before = (await events(app.id)).length;

      const off = await patch(app, c.connectionId, { isForwarding: false });
      expect(off.res.status).toBe(200);
      expect(Object.keys(off.body).sort()).toEqual(USER_FIELDS);
      expect(off.body).toMatchObject({ id: c.connectionId, isForwarding: false, blocked: false, email: c.email });
      // The same value again: no change, no event.
      expect((await patch(app, c.connectionId, { isForwarding: false })).res.status).toBe(200);

      const hide = await patch(app, c.connectionId, { appEmail: '' });
      expect(hide.body.email).toBe('-');
      expect((await patch(app, c.connectionId, { appEmail: '' })).res.status).toBe(200);

      const block = await patch(app, c.connectionId, { blocked: true });
      expect(block.body).toMatchObject({ blocked: true, active: true });
      expect((await patch(app, c.connectionId, { blocked: true })).res.status).toBe(200);
      await expectCountsExact(app.id);
      expect(await counts(app.id)).toEqual({ active: 0, inactive: 0, blocked: 1 });

      expect((await events(app.id)).slice(before)).toEqual([
        { type: 'email_forwarding_changed', data: { ...base, isForwarding: false } },
        { type: 'user_email_changed', data: { ...base, email: null } },
        { type: 'user_blocked', data: base },
      ]);
    });

    it('changes several fields in one request', async () => {
      const app = await devApp({ webhook: true });
      const user = await signUpUser(t.baseUrl);
      const c = await connect(app, user);
      const base = { applicationId: app.id, connectionId: c.connectionId, globalId: user.globalId };
      await confirmSignUpAddress(t.baseUrl, user);
      // The real address is only asked for (the user decides); the other fields apply.
      const { res, body } = await patch(app, c.connectionId, { isForwarding: false, appEmail: `  ${user.email.toUpperCase()} `, blocked: true });
      expect(res.status).toBe(200);
      expect(body).toMatchObject({ isForwarding: false, email: c.email, blocked: true });
      const all = await events(app.id);
      expect(
        all
          .slice(1)
          .map((e) => e.type)
          .sort(),
      ).toEqual(['email_forwarding_changed', 'user_blocked']);
      expect(all.find((e) => e.type === 'user_blocked')!.data).toEqual(base);
      const again = await patch(app, c.connectionId, { isForwarding: false, appEmail: user.email, blocked: true });
      expect(again.res.status).toBe(200);
      expect(await events(app.id)).toHaveLength(all.length);
    });

    it('stops sharing with "" (list shows "-", /api/user says null) and shares the relay address again; other addresses are only asked for', async () => {
      const app = await devApp();
      const user = await signUpUser(t.baseUrl);
      const c = await connect(app, user);
      expect((await patch(app, c.connectionId, { appEmail: '' })).body.email).toBe('-');
      expect((await list(app)).body.users[0].email).toBe('-');
      expect((await currentUser(t.baseUrl, c.token)).body.email).toBeNull();
      expect(await connectionRow(c.connectionId)).toMatchObject({ shared_email: null });

      const relay = await patch(app, c.connectionId, { appEmail: c.email });
      expect(relay.res.status).toBe(200);
      expect(relay.body.email).toBe(c.email);
      expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.email);

      // No address other than the relay one is shared by the developer's word: the same answer for each (see app-email-privacy).
      const unconfirmed = await patch(app, c.connectionId, { appEmail: user.email });
      expect(unconfirmed.res.status).toBe(200);
      expect(unconfirmed.body).toEqual(relay.body);
      const second = `second-${randomBytes(4).toString('hex')}@example.com`;
      const pending = `pending-${randomBytes(4).toString('hex')}@example.com`;
      const [{ id: userId }] = await db().query<Row[]>('SELECT user_id AS id FROM connections WHERE id = ?', [c.connectionId]);
      await db().query('INSERT INTO user_emails (user_id, email, linked, confirmed_at, is_primary) VALUES (?, ?, 1, UTC_TIMESTAMP(3), 0), (?, ?, 0, NULL, 0)', [
        userId,
        second,
        userId,
        pending,
      ]);
      expect((await patch(app, c.connectionId, { appEmail: second })).body).toEqual(relay.body);
      expect((await patch(app, c.connectionId, { appEmail: pending })).body).toEqual(relay.body);
      expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.email);
    });

    it("answers an address that is not the user's, or another user's relay address, like any other: 200, nothing changes; a malformed one or an empty body is 400", async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      const other = await connect(app);
      const before = await connectionRow(c.connectionId);
      const eventsBefore = await eventCount();
      const unchanged = (await list(app)).body.users.find((u) => u.id === c.connectionId);
      for (const body of [{ appEmail: 'someone-else@example.com' }, { appEmail: other.user.email }, { appEmail: other.email }, { appEmail: 'x@loginsign.com' }]) {
        const { res, body: user } = await patch(app, c.connectionId, body);
        expect({ body, status: res.status, user }).toEqual({ body, status: 200, user: unchanged });
      }
      for (const body of [{ appEmail: 'not an email' }, { appEmail: 'x@', isForwarding: false }, {}, { name: 'ignored', id: 'c_x' }]) {
        const { res, body: error } = await patch(app, c.connectionId, body);
        expect({ body, status: res.status, error: error.error }).toEqual({ body, status: 400, error: 'invalid_request' });
      }
      expect(await connectionRow(c.connectionId)).toEqual(before);
      expect(await eventCount()).toBe(eventsBefore);
    });

    it('blocking revokes the tokens and refuses sign-in; unblocking lets the user sign in again', async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      expect((await patch(app, c.connectionId, { blocked: true })).res.status).toBe(200);

      const me = await currentUser(t.baseUrl, c.token);
      expect(me.res.status).toBe(401);
      expect(me.body.error).toBe('invalid_token');
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM access_tokens WHERE connection_id = ? AND revoked = 0', [c.connectionId])).toBe(0);
      const { res } = await authorizeAs(t.baseUrl, c.user, authorizeParams(app));
      expect(res.status).toBe(303);
      expect(callbackParams(res).get('error')).toBe('access_denied');
      expect(callbackParams(res).get('state')).toBe('st');

      const unblocked = await patch(app, c.connectionId, { blocked: false });
      expect(unblocked.body).toMatchObject({ blocked: false, active: true });
      // The old token stays revoked; a new sign-in works with the same connection.
      expect((await currentUser(t.baseUrl, c.token)).res.status).toBe(401);
      const again = await connect(app, c.user);
      expect(again.connectionId).toBe(c.connectionId);
      expect((await currentUser(t.baseUrl, again.token)).res.status).toBe(200);
      expect((await events(app.id)).map((e) => e.type)).toEqual(['user_connected', 'user_blocked', 'user_unblocked']);
      await expectCountsExact(app.id);
    });

    it('names the field of a wrong type and writes nothing', async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      const before = await connectionRow(c.connectionId);
      const eventsBefore = await eventCount();
      for (const [body, field] of [
        [{ isForwarding: 'false' }, 'isForwarding'],
        [{ isForwarding: 0 }, 'isForwarding'],
        [{ isForwarding: null }, 'isForwarding'],
        [{ blocked: 'true' }, 'blocked'],
        [{ blocked: 1 }, 'blocked'],
        [{ blocked: [true] }, 'blocked'],
        [{ appEmail: 42 }, 'appEmail'],
        [{ appEmail: null }, 'appEmail'],
        [{ appEmail: { email: 'x' } }, 'appEmail'],
        [{ appEmail: `${'a'.repeat(320)}@example.com` }, 'appEmail'],
        [{ blocked: true, isForwarding: 'no' }, 'isForwarding'],
      ] as const) {
        const { res, body: error } = await patch(app, c.connectionId, body);
        expect({ body, status: res.status, error: error.error }).toEqual({ body, status: 400, error: 'invalid_request' });
        expect(error.error_description).toContain(field);
      }
      expect(await connectionRow(c.connectionId)).toEqual(before);
      expect(await eventCount()).toBe(eventsBefore);
    });

    it('answers 404 for an unknown connection id', async () => {
      const app = await devApp();
      for (const id of ['c_unknownunknownunknow', 'x', '%25', "c_x' OR '1'='1", 'a'.repeat(90)]) {
        const { res, body } = await patch(app, id, { blocked: true });
        expect(res.status).toBe(404);
        expect(body.error).toBe('not_found');
      }
    });
  });

  describe('DELETE .../users/:connectionId', () => {
    it('closes the account: 204, gone from the list, total down, token dead, one event, a fresh connection next time', async () => {
      const app = await devApp({ webhook: true });
      const c = await connect(app);
      const keep = await connect(app);
      expect((await list(app)).body.total).toBe(2);
      const relayLocal = (await connectionRow(c.connectionId)).relay_local;

      const res = await remove(app, c.connectionId);
      expect(res.status).toBe(204);
      expect(await res.text()).toBe('');
      const after = (await list(app)).body;
      expect(after.total).toBe(1);
      expect(after.users.map((u) => u.id)).toEqual([keep.connectionId]);
      expect((await currentUser(t.baseUrl, c.token)).res.status).toBe(401);
      expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM access_tokens WHERE connection_id = ?', [c.connectionId])).toBe(0);
      expect((await db().query<Row[]>('SELECT local_part FROM relay_addresses WHERE local_part = ?', [relayLocal])).length).toBe(1);
      const deleted = (await events(app.id)).filter((e) => e.type === 'user_account_deleted');
      expect(deleted).toEqual([{ type: 'user_account_deleted', data: { applicationId: app.id, connectionId: c.connectionId, globalId: c.user.globalId } }]);
      await expectCountsExact(app.id);

      // A second DELETE: gone.
      expect((await remove(app, c.connectionId)).status).toBe(404);
      expect((await patch(app, c.connectionId, { blocked: true })).res.status).toBe(404);

      // The next sign-in asks for consent again and creates a new connection with a new relay address.
      const { consentShown } = await authorizeAs(t.baseUrl, c.user, authorizeParams(app));
      expect(consentShown).toBe(true);
      const again = await connect(app, c.user);
      expect(again.connectionId).not.toBe(c.connectionId);
      expect(again.email).toMatch(RELAY);
      expect(again.email).not.toBe(c.email);
      expect((await list(app)).body.total).toBe(2);
      await expectCountsExact(app.id);
    });

    it('decrements the right counter for a blocked user, and writes no event without a webhook URL', async () => {
      const app = await devApp();
      const c = await connect(app);
      await patch(app, c.connectionId, { blocked: true });
      expect(await counts(app.id)).toEqual({ active: 0, inactive: 0, blocked: 1 });
      expect((await remove(app, c.connectionId)).status).toBe(204);
      expect(await counts(app.id)).toEqual({ active: 0, inactive: 0, blocked: 0 });
      expect(await events(app.id)).toEqual([]);
    });
  });

  describe('tenant isolation', () => {
    it('gives developer B 404 for everything of developer A, and leaves A untouched', async () => {
      const a = await devApp({ webhook: true });
      const b = await devApp({ webhook: true });
      const ca = await connect(a);
      const cb = await connect(b);
      const snapshot = async () => ({ list: (await list(a)).body, row: await connectionRow(ca.connectionId), events: await events(a.id), counts: await counts(a.id) });
      const before = await snapshot();

      const attempts: [string, () => Promise<Response>][] = [
        ['GET A app', () => developerRequest(t.baseUrl, b.developerCookie, 'GET', usersPath(a.id))],
        ['GET A app with search', () => developerRequest(t.baseUrl, b.developerCookie, 'GET', usersPath(a.id, { search: ca.user.globalId }))],
        ['PATCH A app, A connection', () => developerRequest(t.baseUrl, b.developerCookie, 'PATCH', `${usersPath(a.id)}/${ca.connectionId}`, { blocked: true })],
        ['PATCH B app, A connection', () => developerRequest(t.baseUrl, b.developerCookie, 'PATCH', `${usersPath(b.id)}/${ca.connectionId}`, { blocked: true })],
        ['PATCH A app, B connection', () => developerRequest(t.baseUrl, b.developerCookie, 'PATCH', `${usersPath(a.id)}/${cb.connectionId}`, { blocked: true })],
        ['DELETE A app, A connection', () => developerRequest(t.baseUrl, b.developerCookie, 'DELETE', `${usersPath(a.id)}/${ca.connectionId}`)],
        ['DELETE B app, A connection', () => developerRequest(t.baseUrl, b.developerCookie, 'DELETE', `${usersPath(b.id)}/${ca.connectionId}`)],
        ['DELETE A app, B connection', () => developerRequest(t.baseUrl, b.developerCookie, 'DELETE', `${usersPath(a.id)}/${cb.connectionId}`)],
        ['GET unknown app', () => developerRequest(t.baseUrl, b.developerCookie, 'GET', usersPath('app_aaaaaaaaaaaaaaaaaaaa'))],
      ];
      for (const [what, send] of attempts) {
        const res = await send();
        expect({ what, status: res.status, error: (await readJson(res)).error }).toEqual({ what, status: 404, error: 'not_found' });
      }
      expect(await snapshot()).toEqual(before);
      // B's own list never shows A's user, even when searched for.
      expect((await list(b, { search: ca.user.globalId })).body).toEqual({ users: [], total: 0, nextCursor: null });
      expect((await list(b)).body.users.map((u) => u.id)).toEqual([cb.connectionId]);
    });

    it('ignores ids placed in a body', async () => {
      const a = await devApp();
      const b = await devApp();
      const ca = await connect(a);
      const cb = await connect(b);
      const { res, body } = await patch(b, cb.connectionId, { blocked: true, id: ca.connectionId, connectionId: ca.connectionId, applicationId: a.id, appId: a.id });
      expect(res.status).toBe(200);
      expect(body.id).toBe(cb.connectionId);
      expect((await connectionRow(cb.connectionId)).blocked).toBe(1);
      expect((await connectionRow(ca.connectionId)).blocked).toBe(0);
      expect((await currentUser(t.baseUrl, ca.token)).res.status).toBe(200);
    });
  });

  describe('bad input on the write endpoints', () => {
    let app: DevApp;
    let c: Connected;
    let state: () => Promise<unknown>;
    beforeAll(async () => {
      app = await devApp({ webhook: true });
      c = await connect(app);
      state = async () => ({ row: await connectionRow(c.connectionId), events: await eventCount(), counts: await counts(app.id) });
    });
    const raw = (method: string, body: string | undefined, headers: Record<string, string>) =>
      fetch(`${t.baseUrl}${usersPath(app.id)}/${c.connectionId}`, { method, headers: { cookie: app.developerCookie, ...headers }, body });
    const huge = JSON.stringify({ appEmail: 'x'.repeat(1024 * 1024) });

    it.each([
      ['PATCH malformed JSON', 'PATCH', '{"blocked": tru', { 'content-type': 'application/json' }, 400, 'invalid_request'],
      ['PATCH a JSON array', 'PATCH', '[{"blocked": true}]', { 'content-type': 'application/json' }, 400, 'invalid_request'],
      ['PATCH a JSON string', 'PATCH', '"blocked"', { 'content-type': 'application/json' }, 400, 'invalid_request'],
      ['PATCH a text/plain body', 'PATCH', '{"blocked": true}', { 'content-type': 'text/plain' }, 403, 'forbidden'],
      ['PATCH a form body', 'PATCH', 'blocked=true', { 'content-type': 'application/x-www-form-urlencoded' }, 403, 'forbidden'],
      ['PATCH from a foreign Origin', 'PATCH', '{"blocked": true}', { 'content-type': 'application/json', origin: 'https://evil.example' }, 403, 'forbidden'],
      ['PATCH cross-site', 'PATCH', '{"blocked": true}', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, 403, 'forbidden'],
      ['PATCH without a body', 'PATCH', undefined, {}, 415, 'unsupported_media_type'],
      ['PATCH 1 MB of JSON', 'PATCH', huge, { 'content-type': 'application/json' }, 413, 'payload_too_large'],
      ['PATCH 1 MB of text', 'PATCH', huge, { 'content-type': 'text/plain' }, 413, 'payload_too_large'],
      ['DELETE a text/plain body', 'DELETE', 'x', { 'content-type': 'text/plain' }, 403, 'forbidden'],
      ['DELETE from a foreign Origin', 'DELETE', undefined, { origin: 'https://evil.example' }, 403, 'forbidden'],
      ['DELETE malformed JSON', 'DELETE', '{', { 'content-type': 'application/json' }, 400, 'invalid_request'],
      ['DELETE 1 MB', 'DELETE', huge, { 'content-type': 'application/json' }, 413, 'payload_too_large'],
    ])('%s: refused, nothing written', async (_, method, body, headers, status, error) => {
      const before = await state();
      const res = await raw(method, body, headers);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await readJson(res)).error).toBe(error);
      expect(await state()).toEqual(before);
    });

    it('refuses writes without a session', async () => {
      const before = await state();
      expect((await developerRequest(t.baseUrl, undefined, 'PATCH', `${usersPath(app.id)}/${c.connectionId}`, { blocked: true })).status).toBe(401);
      expect((await developerRequest(t.baseUrl, undefined, 'DELETE', `${usersPath(app.id)}/${c.connectionId}`)).status).toBe(401);
      expect(await state()).toEqual(before);
    });

    it('accepts a same-origin write that says so', async () => {
      const res = await raw('PATCH', '{"isForwarding": false}', { 'content-type': 'application/json; charset=utf-8', origin: t.baseUrl, 'sec-fetch-site': 'same-origin' });
      expect(res.status).toBe(200);
      expect((await readJson(res)).isForwarding).toBe(false);
    });
  });
});
