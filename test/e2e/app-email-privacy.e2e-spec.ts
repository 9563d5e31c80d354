import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { confirmSignUpAddress, signUpUser, TestUser } from '../support/accounts';
import { createApplication, developerRequest, readJson, signUpDeveloper } from '../support/developer';
import { getPage, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, connectWithRefresh, currentUser } from '../support/oauth';
import { webhookEvents } from '../support/db';

const REDIRECT_URI = 'https://client.example/cb';
const APP_NAME = 'Gallery';

/**
 * The developer's `appEmail` never shares a real address by itself, and its
 * answer does not tell whether an address belongs to the user: the user is
 * asked in the account center, and only their allow shares it.
 */
describe('appEmail privacy: a developer asks, the user decides', () => {
  let t: TestApp;
  let app: ClientApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi();
    const developer = await signUpDeveloper(t.baseUrl);
    const created = await createApplication(t.baseUrl, developer.cookie, { name: APP_NAME, redirectUris: [REDIRECT_URI], webhookUrl: 'https://hooks.example.com/in' });
    app = { id: created.id, clientId: created.clientId, clientSecret: created.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie };
  });
  afterAll(() => t.close());

  const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}@example.com`;

  async function connect(user: TestUser, share = 'relay') {
    const { body } = await connectWithRefresh(t.baseUrl, app, user, share);
    const profile = await currentUser(t.baseUrl, body.access_token);
    return { token: body.access_token, connectionId: profile.body.id, relay: `${await relayLocal(profile.body.id)}@loginsign.com` };
  }
  const relayLocal = async (connectionId: string) =>
    (await db().query<{ relay_local: string }[]>('SELECT relay_local FROM connections WHERE id = ?', [connectionId]))[0].relay_local;
  const userIdOf = async (connectionId: string) => Number((await db().query<{ user_id: string }[]>('SELECT user_id FROM connections WHERE id = ?', [connectionId]))[0].user_id);
  /** A second address of the user, confirmed (or pending) as if its link had been followed. */
  async function addAddress(connectionId: string, email: string, confirmed = true) {
    await db().query(`INSERT INTO user_emails (user_id, email, linked, confirmed_at, is_primary) VALUES (?, ?, ?, ${confirmed ? 'UTC_TIMESTAMP(3)' : 'NULL'}, 0)`, [
      await userIdOf(connectionId),
      email,
      confirmed ? 1 : 0,
    ]);
  }

  const patch = async (connectionId: string, body: Record<string, unknown>) => {
    const res = await developerRequest(t.baseUrl, app.developerCookie, 'PATCH', `/api/developer/applications/${app.id}/users/${connectionId}`, body);
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
  };
  const developerView = async (connectionId: string) => {
    const list = await readJson<{ users: Record<string, unknown>[] }>(
      await developerRequest(t.baseUrl, app.developerCookie, 'GET', `/api/developer/applications/${app.id}/users?limit=100`),
    );
    return list.users.find((u) => u.id === connectionId)!;
  };
  const emailEvents = async (connectionId: string) =>
    (await webhookEvents(db(), app.id)).filter((e) => e.type === 'user_email_changed' && e.data.connectionId === connectionId).map((e) => e.data.email);
  const appsPage = async (user: TestUser) => (await getPage(t.baseUrl, '/account/apps', user.jar)).html;
  const asks = (email: string) => `<strong>${APP_NAME}</strong> asks to see <strong>${email}</strong>`;
  /** The Allow or Decline form of the request, from the app's page (its _csrf). */
  async function answer(user: TestUser, connectionId: string, choice: 'allow' | 'decline') {
    const page = await getPage(t.baseUrl, `/account/apps/${connectionId}`, user.jar);
    expect(page.res.status).toBe(200);
    return postForm(t.baseUrl, `/account/apps/${connectionId}/email-request`, { _csrf: page.csrf!, answer: choice }, user.jar);
  }

  it('the same 200 with the unchanged user for a linked, an unconfirmed and a stranger address; only the linked one is asked', async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, user);
    const c = await connect(user);
    const pending = unique('pending');
    await addAddress(c.connectionId, pending, false);
    const someoneElse = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, someoneElse);
    const before = await developerView(c.connectionId);

    const answers = [];
    for (const appEmail of [user.email, unique('stranger'), pending, someoneElse.email, user.email.toUpperCase()]) answers.push(await patch(c.connectionId, { appEmail }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0].body).toEqual(before);
    expect(Object.keys(before).sort()).toEqual([
      'active',
      'blocked',
      'email',
      'emailMuted',
      'globalId',
      'id',
      'isForwarding',
      'joined',
      'lastSession',
      'name',
      'region',
      'sessions',
    ]);
    expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.relay);
    expect(await emailEvents(c.connectionId)).toEqual([]);

    // The user sees the one request for their own confirmed address (the latest ask), and nothing else.
    const html = await appsPage(user);
    expect(html).toContain(asks(user.email));
    expect(html).not.toContain(pending);
    expect(html.split('asks to see').length).toBe(2);
    expect(await appsPage(someoneElse)).not.toContain('asks to see');
  });

  it('Allow shares the address (user_email_changed); Decline removes the request and shares nothing', async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, user);
    const c = await connect(user);
    expect((await patch(c.connectionId, { appEmail: user.email })).status).toBe(200);
    expect((await getPage(t.baseUrl, `/account/apps/${c.connectionId}`, user.jar)).html).toContain(asks(user.email));

    const declined = await answer(user, c.connectionId, 'decline');
    expect(declined.status).toBe(303);
    expect(declined.headers.get('location')).toBe(`/account/apps/${c.connectionId}?done=email-request-declined`);
    expect(await appsPage(user)).not.toContain('asks to see');
    expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.relay);
    expect(await emailEvents(c.connectionId)).toEqual([]);

    expect((await patch(c.connectionId, { appEmail: user.email })).status).toBe(200);
    // Without the form's CSRF token nothing happens.
    expect((await postForm(t.baseUrl, `/account/apps/${c.connectionId}/email-request`, { answer: 'allow' }, user.jar)).status).toBe(403);
    const allowed = await answer(user, c.connectionId, 'allow');
    expect(allowed.status).toBe(303);
    expect(allowed.headers.get('location')).toBe(`/account/apps/${c.connectionId}?done=email-request-shared`);
    expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(user.email);
    expect((await developerView(c.connectionId)).email).toBe(user.email);
    expect(await emailEvents(c.connectionId)).toEqual([user.email]);
    expect(await appsPage(user)).not.toContain('asks to see');
  });

  it("a later request replaces the earlier one; an address that stopped being the user's is not shared by Allow", async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, user);
    const c = await connect(user);
    const second = unique('second');
    await addAddress(c.connectionId, second);
    expect((await patch(c.connectionId, { appEmail: user.email })).status).toBe(200);
    expect((await patch(c.connectionId, { appEmail: second })).status).toBe(200);
    let html = await appsPage(user);
    expect(html).toContain(asks(second));
    expect(html).not.toContain(asks(user.email));

    // The user removes the address before answering: the request is no longer shown, and Allow shares nothing.
    const page = await getPage(t.baseUrl, `/account/apps/${c.connectionId}`, user.jar);
    expect((await postForm(t.baseUrl, '/account/emails/remove', { _csrf: page.csrf!, email: second }, user.jar)).status).toBe(303);
    html = await appsPage(user);
    expect(html).not.toContain('asks to see');
    const allowed = await postForm(t.baseUrl, `/account/apps/${c.connectionId}/email-request`, { _csrf: page.csrf!, answer: 'allow' }, user.jar);
    expect(allowed.headers.get('location')).toBe(`/account/apps/${c.connectionId}?done=email-request-gone`);
    expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.relay);
    expect(await emailEvents(c.connectionId)).toEqual([]);
  });

  it('"" and the relay address apply at once; after the user chose "Don\'t share", the relay address is a request', async () => {
    const user = await signUpUser(t.baseUrl);
    const c = await connect(user);
    expect((await patch(c.connectionId, { appEmail: '' })).body.email).toBe('-');
    expect((await patch(c.connectionId, { appEmail: c.relay })).body.email).toBe(c.relay);
    expect((await currentUser(t.baseUrl, c.token)).body.email).toBe(c.relay);
    expect(await emailEvents(c.connectionId)).toEqual([null, c.relay]);

    const private_ = await signUpUser(t.baseUrl);
    const p = await connect(private_, 'none');
    const asked = await patch(p.connectionId, { appEmail: p.relay });
    expect(asked.status).toBe(200);
    expect(asked.body.email).toBe('-');
    expect((await currentUser(t.baseUrl, p.token)).body.email).toBeNull();
    expect(await appsPage(private_)).toContain(asks(p.relay));
    expect((await answer(private_, p.connectionId, 'allow')).status).toBe(303);
    expect((await currentUser(t.baseUrl, p.token)).body.email).toBe(p.relay);
    expect(await emailEvents(p.connectionId)).toEqual([p.relay]);
  });

  it('other fields of the same PATCH apply and show; a malformed address is 400 and changes nothing', async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, user);
    const c = await connect(user);
    const changed = await patch(c.connectionId, { appEmail: user.email, isForwarding: false, blocked: true });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ email: c.relay, isForwarding: false, blocked: true });
    const types = (await webhookEvents(db(), app.id)).filter((e) => e.data.connectionId === c.connectionId).map((e) => e.type);
    expect(types.sort()).toEqual(['email_forwarding_changed', 'user_blocked', 'user_connected']);

    const before = await developerView(c.connectionId);
    for (const appEmail of ['not-an-address', 'a@', `${user.email}\u0000`, '@example.com']) {
      const bad = await patch(c.connectionId, { appEmail, isForwarding: true });
      expect({ appEmail, status: bad.status, error: bad.body.error }).toEqual({ appEmail, status: 400, error: 'invalid_request' });
    }
    expect(await developerView(c.connectionId)).toEqual(before);
  });
});
