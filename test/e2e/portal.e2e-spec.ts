import { DataSource } from 'typeorm';
import { startApi, TestApp } from '../support/harness';
import { CookieJar, getPage, inputValue, postForm } from '../support/forms';
import { developerRequest, readJson, uniqueDeveloperEmail, UsersPage } from '../support/developer';
import { confirmSignUpAddress, signUpUser } from '../support/accounts';
import { ClientApp, codeFor, exchangeCode } from '../support/oauth';
import { seedConnections } from '../support/seed';

/**
 * The Developer Portal pages (`/developer`), driven through their HTML forms
 * like a browser without JavaScript: a cookie jar, the page's `_csrf`, 303s.
 */
describe('Developer Portal pages', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, jar: CookieJar) => getPage(t.baseUrl, path, jar);

  /** GET the page with the form, then POST `fields` + its `_csrf` to `action`. */
  async function submit(jar: CookieJar, pagePath: string, action: string, fields: Record<string, string> = {}) {
    const page = await get(pagePath, jar);
    expect(page.res.status).toBe(200);
    expect(page.csrf).toBeTruthy();
    return postForm(t.baseUrl, action, { _csrf: page.csrf!, ...fields }, jar);
  }

  async function signUpDeveloperByForm(name = 'Portal Dev'): Promise<{ jar: CookieJar; email: string; password: string; cookie: string }> {
    const jar = new CookieJar();
    const email = uniqueDeveloperEmail('portal');
    const password = 'portal password 1';
    const res = await submit(jar, '/developer/signup', '/developer/signup', { name, email, password });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/developer/apps');
    const session = jar.get('ls_dev');
    expect(session).toBeTruthy();
    return { jar, email, password, cookie: `ls_dev=${session}` };
  }

  /** Creates an app through the form; returns its id and the secrets shown once. */
  async function createAppByForm(jar: CookieJar, fields: Record<string, string> = {}) {
    const res = await submit(jar, '/developer/apps/new', '/developer/apps', {
      name: 'Portal App',
      redirectUris: 'https://portal-app.example/cb\nhttp://127.0.0.1:4000/callback',
      webhookUrl: '',
      logoUrl: '',
      ...fields,
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    const match = /^\/developer\/apps\/(app_[a-z0-9]{20})\/credentials$/.exec(location);
    expect(match).not.toBeNull();
    const shown = await get(location, jar);
    expect(shown.res.status).toBe(200);
    expect(shown.res.headers.get('cache-control')).toBe('no-store');
    const clientSecret = /<code id="client-secret"[^>]*>([^<]+)<\/code>/.exec(shown.html)?.[1];
    const webhookSecret = /<code id="webhook-secret"[^>]*>([^<]+)<\/code>/.exec(shown.html)?.[1];
    const clientId = /<code id="client-id"[^>]*>([^<]+)<\/code>/.exec(shown.html)?.[1];
    return { id: match![1], clientId: clientId!, clientSecret: clientSecret!, webhookSecret: webhookSecret!, html: shown.html };
  }

  describe('sign-up, sign-in, sign-out', () => {
    it('signs up through the form, lands on the applications list; the session also works on the JSON API', async () => {
      const dev = await signUpDeveloperByForm('Form Dev');
      const list = await get('/developer/apps', dev.jar);
      expect(list.res.status).toBe(200);
      expect(list.html).toContain('No applications yet');
      expect(list.html).toContain('Form Dev');
      expect(list.res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(list.res.headers.get('cache-control')).toBe('no-store');
      const me = await developerRequest(t.baseUrl, dev.cookie, 'GET', '/api/developer/me');
      expect((await readJson(me)).email).toBe(dev.email);
    });

    it("re-renders the sign-up form with the API's errors (duplicate email 409, bad fields 400), never the password", async () => {
      const dev = await signUpDeveloperByForm();
      const jar = new CookieJar();
      const dup = await submit(jar, '/developer/signup', '/developer/signup', { name: 'X', email: dev.email.toUpperCase(), password: 'another password' });
      expect(dup.status).toBe(409);
      const body = await dup.text();
      expect(body).toContain('already exists');
      expect(body).not.toContain('another password');
      const short = await submit(jar, '/developer/signup', '/developer/signup', { name: 'X', email: uniqueDeveloperEmail(), password: 'short' });
      expect(short.status).toBe(400);
      expect(await short.text()).toMatch(/password/i);
      const badEmail = await submit(jar, '/developer/signup', '/developer/signup', { name: 'X', email: 'not-an-email', password: 'long enough password' });
      expect(badEmail.status).toBe(400);
    });

    it('logs in (same error for unknown email and wrong password), honours a portal return_to only, logs out server-side', async () => {
      const dev = await signUpDeveloperByForm();
      const jar = new CookieJar();
      const wrong = await submit(jar, '/developer/login', '/developer/login', { email: dev.email, password: 'wrong password' });
      const unknown = await submit(jar, '/developer/login', '/developer/login', { email: uniqueDeveloperEmail(), password: 'wrong password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const [a, b] = [await wrong.text(), await unknown.text()];
      expect(a).toContain('The email or password is incorrect.');
      expect(b).toContain('The email or password is incorrect.');

      // An anonymous GET of a portal page goes to the login with return_to.
      const anonymous = await get('/developer/apps/new', jar);
      expect(anonymous.res.status).toBe(303);
      expect(anonymous.res.headers.get('location')).toBe('/developer/login?return_to=%2Fdeveloper%2Fapps%2Fnew');
      const loginPage = await get(anonymous.res.headers.get('location')!, jar);
      expect(inputValue(loginPage.html, 'return_to')).toBe('/developer/apps/new');
      const ok = await postForm(t.baseUrl, '/developer/login', { _csrf: loginPage.csrf!, email: dev.email, password: dev.password, return_to: '/developer/apps/new' }, jar);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe('/developer/apps/new');
      const sessionId = jar.get('ls_dev')!;

      // Foreign or non-portal return_to: the apps list.
      for (const returnTo of ['https://evil.example/', '//evil.example', '/account']) {
        const again = await submit(jar, '/developer/login', '/developer/login', { email: dev.email, password: dev.password, return_to: returnTo });
        expect(again.headers.get('location')).toBe('/developer/apps');
      }
      const current = jar.get('ls_dev')!;
      expect(current).not.toBe(sessionId); // a new session id at every login

      const out = await submit(jar, '/developer/apps', '/developer/logout');
      expect(out.status).toBe(303);
      expect(out.headers.get('location')).toBe('/developer/login');
      expect(jar.get('ls_dev')).toBeUndefined();
      const dead = await developerRequest(t.baseUrl, `ls_dev=${current}`, 'GET', '/api/developer/me');
      expect(dead.status).toBe(401);
    });

    it('throttles form logins like the JSON login (429 with Retry-After, even with the right password)', async () => {
      const dev = await signUpDeveloperByForm();
      const jar = new CookieJar();
      for (let i = 0; i < 10; i++) {
        const res = await submit(jar, '/developer/login', '/developer/login', { email: dev.email, password: `wrong ${i}` });
        expect(res.status).toBe(401);
      }
      const limited = await submit(jar, '/developer/login', '/developer/login', { email: dev.email, password: dev.password });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeTruthy();
      expect(await limited.text()).toContain('Too many failed sign-in attempts');
      // The JSON login shares the window.
      const json = await developerRequest(t.baseUrl, undefined, 'POST', '/api/developer/login', { email: dev.email, password: dev.password });
      expect(json.status).toBe(429);
    });
  });

  describe('applications', () => {
    it('creates an app and shows its secrets once (no-store, not in the URL); the secret works at the token endpoint', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      expect(app.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(app.webhookSecret).toMatch(/^whsec_/);
      expect(app.html).toContain('shown only this once');
      // Shown once: the next visit goes to the settings page.
      const again = await get(`/developer/apps/${app.id}/credentials`, dev.jar);
      expect(again.res.status).toBe(303);
      expect(again.res.headers.get('location')).toBe(`/developer/apps/${app.id}`);
      const settings = await get(`/developer/apps/${app.id}`, dev.jar);
      expect(settings.html).not.toContain(app.clientSecret);

      const client: ClientApp = { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: 'https://portal-app.example/cb', developerCookie: dev.cookie };
      const { code, verifier } = await codeFor(t.baseUrl, client);
      const { res } = await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier });
      expect(res.status).toBe(200);

      const list = await get('/developer/apps', dev.jar);
      expect(list.html).toContain(`/developer/apps/${app.id}`);
      expect(list.html).toContain(app.clientId);
    });

    it("refuses invalid settings with the API's message and keeps the typed values", async () => {
      const dev = await signUpDeveloperByForm();
      const bad = await submit(dev.jar, '/developer/apps/new', '/developer/apps', { name: 'Bad', redirectUris: 'http://evil.example/cb', webhookUrl: '', logoUrl: '' });
      expect(bad.status).toBe(400);
      const body = await bad.text();
      expect(body).toContain('Redirect URI 1 must use https');
      expect(body).toContain('http://evil.example/cb');
      const none = await submit(dev.jar, '/developer/apps/new', '/developer/apps', { name: 'None', redirectUris: '  \n ', webhookUrl: '', logoUrl: '' });
      expect(none.status).toBe(400);
      const list = await readJson(await developerRequest(t.baseUrl, dev.cookie, 'GET', '/api/developer/applications'));
      expect(list.applications).toHaveLength(0);
    });

    it('saves settings (name, logo, redirect URIs one per line, webhook URL) through the same service as PATCH', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const res = await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}`, {
        name: 'Renamed App',
        redirectUris: 'https://renamed.example/cb\r\n\r\nhttps://renamed.example/other\r\n',
        webhookUrl: 'http://127.0.0.1:9/hooks',
        logoUrl: 'https://renamed.example/logo.png',
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/developer/apps/${app.id}?done=saved`);
      const json = await readJson(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`));
      expect(json).toMatchObject({
        name: 'Renamed App',
        redirectUris: ['https://renamed.example/cb', 'https://renamed.example/other'],
        webhookUrl: 'http://127.0.0.1:9/hooks',
        logoUrl: 'https://renamed.example/logo.png',
      });
      const page = await get(res.headers.get('location')!, dev.jar);
      expect(page.html).toContain('Changes saved.');
      expect(page.html).toContain('https://renamed.example/cb\nhttps://renamed.example/other</textarea>');

      // Emptying the optional URLs clears them.
      await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}`, {
        name: 'Renamed App',
        redirectUris: 'https://renamed.example/cb',
        webhookUrl: '',
        logoUrl: '',
      });
      const cleared = await readJson(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`));
      expect(cleared).toMatchObject({ webhookUrl: null, logoUrl: null, redirectUris: ['https://renamed.example/cb'] });

      const bad = await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}`, {
        name: 'Renamed App',
        redirectUris: 'https://x.example/cb#frag',
        webhookUrl: '',
        logoUrl: '',
      });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('https://x.example/cb#frag</textarea>');
    });

    it('rotates the client secret (shown once; the old one stops working) and the webhook secret', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const rotated = await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}/client-secret`);
      expect(rotated.status).toBe(303);
      expect(rotated.headers.get('location')).toBe(`/developer/apps/${app.id}/credentials`);
      const shown = await get(rotated.headers.get('location')!, dev.jar);
      expect(shown.res.headers.get('cache-control')).toBe('no-store');
      const secret = /<code id="client-secret"[^>]*>([^<]+)<\/code>/.exec(shown.html)![1];
      expect(secret).not.toBe(app.clientSecret);
      expect(shown.html).not.toContain('id="webhook-secret"');

      const oldClient: ClientApp = {
        id: app.id,
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        redirectUri: 'https://portal-app.example/cb',
        developerCookie: dev.cookie,
      };
      const first = await codeFor(t.baseUrl, oldClient);
      expect((await exchangeCode(t.baseUrl, oldClient, { code: first.code, code_verifier: first.verifier })).res.status).toBe(401);
      const newClient = { ...oldClient, clientSecret: secret };
      const second = await codeFor(t.baseUrl, newClient, first.user);
      expect((await exchangeCode(t.baseUrl, newClient, { code: second.code, code_verifier: second.verifier })).res.status).toBe(200);

      const webhook = await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}/webhook-secret`);
      expect(webhook.status).toBe(303);
      const webhookPage = await get(webhook.headers.get('location')!, dev.jar);
      const whsec = /<code id="webhook-secret"[^>]*>([^<]+)<\/code>/.exec(webhookPage.html)![1];
      expect(whsec).toMatch(/^whsec_/);
      expect(whsec).not.toBe(app.webhookSecret);
      expect(webhookPage.html).not.toContain('id="client-secret"');
    });

    it('deletes an app only after a confirmation page', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const confirm = await get(`/developer/apps/${app.id}/delete`, dev.jar);
      expect(confirm.res.status).toBe(200);
      expect(confirm.html).toContain('cannot be undone');
      expect((await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`)).status).toBe(200);
      const res = await postForm(t.baseUrl, `/developer/apps/${app.id}/delete`, { _csrf: confirm.csrf! }, dev.jar);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/developer/apps?done=deleted');
      expect((await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`)).status).toBe(404);
      expect((await get(`/developer/apps/${app.id}`, dev.jar)).res.status).toBe(404);
      expect((await get('/developer/apps?done=deleted', dev.jar)).html).toContain('Application deleted.');
    });

    it("shows an Integrate page with this deployment's endpoints, the client id and an escaped Node.js PKCE snippet", async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar, { redirectUris: "https://int.example/cb?a=1&b='x'" });
      const page = await get(`/developer/apps/${app.id}/integrate`, dev.jar);
      expect(page.res.status).toBe(200);
      for (const url of [`${t.baseUrl}/oauth/authorize`, `${t.baseUrl}/oauth/token`, `${t.baseUrl}/api/user`, `${t.baseUrl}/.well-known/openid-configuration`]) {
        expect(page.html).toContain(url);
      }
      expect(page.html).toContain(app.clientId);
      expect(page.html).toContain('oauth4webapi');
      expect(page.html).toContain('calculatePKCECodeChallenge');
      expect(page.html).toContain('code_challenge_method');
      // The snippet is HTML-escaped: arrows and the redirect URI's & and ' never appear raw.
      expect(page.html).toContain('async (req, res) =&gt; {');
      expect(page.html).toContain('https://int.example/cb?a=1&amp;b=&#39;x&#39;');
      expect(page.html).not.toContain("b='x'");
      // The discovery URL it names really answers.
      const discovery = await fetch(`${t.baseUrl}/.well-known/openid-configuration`);
      expect((await readJson(discovery)).authorization_endpoint).toBe(`${t.baseUrl}/oauth/authorize`);
    });

    it('serves the copy-button script as a same-origin asset (CSP script-src self)', async () => {
      const res = await fetch(`${t.baseUrl}/assets/portal.js`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/javascript/);
      expect(await res.text()).toContain('clipboard');
    });
  });

  describe('users', () => {
    async function appWithUsers() {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const client: ClientApp = { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: 'https://portal-app.example/cb', developerCookie: dev.cookie };
      return { dev, app, client };
    }

    async function signIn(client: ClientApp, name: string, share = 'relay') {
      const user = await signUpUser(t.baseUrl, { name, region: 'Portugal' });
      const { code, verifier } = await codeFor(t.baseUrl, client, user, share);
      expect((await exchangeCode(t.baseUrl, client, { code, code_verifier: verifier })).res.status).toBe(200);
      const list = await readJson<UsersPage>(
        await developerRequest(t.baseUrl, client.developerCookie, 'GET', `/api/developer/applications/${client.id}/users?search=${user.globalId}`),
      );
      return { user, connection: list.users[0] };
    }

    it('lists users in a table with every field of the JSON list', async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection } = await signIn(client, 'Table Person');
      const page = await get(`/developer/apps/${app.id}/users`, dev.jar);
      expect(page.res.status).toBe(200);
      for (const header of ['ID', 'Global ID', 'Name', 'Email', 'Active', 'Blocked', 'Email muted', 'Sessions', 'Last session', 'Joined', 'Region', 'Forwarding']) {
        expect(page.html).toContain(`<th scope="col">${header}</th>`);
      }
      const row = new RegExp(`<tr id="user-${connection.id}"[\\s\\S]*?</tr>`).exec(page.html)![0];
      for (const value of [connection.id, connection.globalId, 'Table Person', connection.email, 'Portugal', connection.joined, connection.lastSession]) {
        expect(row).toContain(value);
      }
      expect(row).toContain('>1</td>'); // sessions
      expect(row).toContain('badge-ok">active');
      expect(page.html).toContain('1 user');
    });

    it('searches, filters by status and pages with the cursor ("Next")', async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection } = await signIn(client, 'Findable Person');
      await seedConnections(db, app.id, 30);

      const all = await get(`/developer/apps/${app.id}/users`, dev.jar);
      expect(all.html).toContain('31 users');
      expect(all.html.match(/<tr id="user-/g)).toHaveLength(25);
      const next = /<a href="([^"]+)" rel="next" id="next-page">/.exec(all.html)![1].replace(/&amp;/g, '&');
      expect(next).toMatch(/\/users\?cursor=/);
      const page2 = await get(next, dev.jar);
      expect(page2.res.status).toBe(200);
      expect(page2.html.match(/<tr id="user-/g)).toHaveLength(6);
      expect(page2.html).not.toContain('id="next-page"');

      const found = await get(`/developer/apps/${app.id}/users?search=${connection.globalId}`, dev.jar);
      expect(found.html.match(/<tr id="user-/g)).toHaveLength(1);
      expect(found.html).toContain(`user-${connection.id}`);
      expect(inputValue(found.html, 'search')).toBe(connection.globalId);
      const byName = await get(`/developer/apps/${app.id}/users?search=Findable`, dev.jar);
      expect(byName.html).toContain(`user-${connection.id}`);
      const none = await get(`/developer/apps/${app.id}/users?search=zzzz-nobody`, dev.jar);
      expect(none.html).toContain('No users match.');

      await developerRequest(t.baseUrl, dev.cookie, 'PATCH', `/api/developer/applications/${app.id}/users/${connection.id}`, { blocked: true });
      const blocked = await get(`/developer/apps/${app.id}/users?status=blocked`, dev.jar);
      expect(blocked.html.match(/<tr id="user-/g)).toHaveLength(1);
      expect(blocked.html).toContain(`user-${connection.id}`);
      expect(blocked.html).toMatch(/<option value="blocked" selected>/);
      const active = await get(`/developer/apps/${app.id}/users?status=active&search=Findable`, dev.jar);
      expect(active.html).toContain('No users match.');

      // A cursor the server did not issue: an error page, not a crash.
      expect((await get(`/developer/apps/${app.id}/users?cursor=bogus.cursor`, dev.jar)).res.status).toBe(400);
    });

    it("blocks and unblocks (tokens revoked), keeping the list's filters in the 303", async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection, user } = await signIn(client, 'Blockable');
      const listPath = `/developer/apps/${app.id}/users?search=${connection.globalId}`;
      const page = await get(listPath, dev.jar);
      const block = await postForm(
        t.baseUrl,
        `/developer/apps/${app.id}/users/${connection.id}/block`,
        { _csrf: page.csrf!, blocked: 'true', search: connection.globalId },
        dev.jar,
      );
      expect(block.status).toBe(303);
      expect(block.headers.get('location')).toBe(`${listPath}&done=blocked`);
      const json = await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users?search=${connection.globalId}`));
      expect(json.users[0].blocked).toBe(true);
      const after = await get(block.headers.get('location')!, dev.jar);
      expect(after.html).toContain('User blocked');
      expect(after.html).toContain('>Unblock</button>');
      // A blocked user cannot sign in to the app.
      const again = await fetch(
        `${t.baseUrl}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: client.redirectUri, state: 's' }).toString()}`,
        { redirect: 'manual', headers: { cookie: user.cookie } },
      );
      expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe('access_denied');

      const unblock = await postForm(t.baseUrl, `/developer/apps/${app.id}/users/${connection.id}/block`, { _csrf: after.csrf!, blocked: 'false' }, dev.jar);
      expect(unblock.status).toBe(303);
      expect(unblock.headers.get('location')).toBe(`/developer/apps/${app.id}/users?done=unblocked`);
      const json2 = await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users?search=${connection.globalId}`));
      expect(json2.users[0].blocked).toBe(false);
    });

    it('turns forwarding off and on', async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection } = await signIn(client, 'Forwarder');
      expect(connection.isForwarding).toBe(true);
      const page = await get(`/developer/apps/${app.id}/users`, dev.jar);
      const off = await postForm(t.baseUrl, `/developer/apps/${app.id}/users/${connection.id}/forwarding`, { _csrf: page.csrf!, isForwarding: 'false' }, dev.jar);
      expect(off.status).toBe(303);
      const state = async () =>
        (await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users`))).users[0].isForwarding;
      expect(await state()).toBe(false);
      const after = await get(off.headers.get('location')!, dev.jar);
      expect(after.html).toContain('Email forwarding turned off.');
      await postForm(t.baseUrl, `/developer/apps/${app.id}/users/${connection.id}/forwarding`, { _csrf: after.csrf!, isForwarding: 'true', from: 'detail' }, dev.jar);
      expect(await state()).toBe(true);
    });

    it('changes the shared address: the relay address or none at once, any other address only asks the user; refuses a malformed one', async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection, user } = await signIn(client, 'Sharer');
      const relay = connection.email;
      expect(relay).toMatch(/@loginsign\.com$/);
      const detailPath = `/developer/apps/${app.id}/users/${connection.id}`;
      const detail = await get(detailPath, dev.jar);
      expect(detail.res.status).toBe(200);
      expect(inputValue(detail.html, 'appEmail')).toBe(relay);
      const email = async () => (await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users`))).users[0].email;

      // A real address is only asked for: the same answer whether it is the user's (confirmed or not) or not.
      const unconfirmed = await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: user.email }, dev.jar);
      expect(unconfirmed.status).toBe(303);
      await confirmSignUpAddress(t.baseUrl, user);
      const linked = await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: user.email }, dev.jar);
      expect(linked.status).toBe(303);
      expect(linked.headers.get('location')).toBe(`${detailPath}?done=email`);
      expect(await email()).toBe(relay);
      const stranger = await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: 'someone-else@example.com' }, dev.jar);
      expect(stranger.headers.get('location')).toBe(`${detailPath}?done=email`);
      expect(await email()).toBe(relay);

      const stop = await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: user.email, stop: '1' }, dev.jar);
      expect(stop.status).toBe(303);
      expect(await email()).toBe('-');

      await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: relay }, dev.jar);
      expect(await email()).toBe(relay);

      const malformed = await postForm(t.baseUrl, `${detailPath}/email`, { _csrf: detail.csrf!, appEmail: 'not an address' }, dev.jar);
      expect(malformed.status).toBe(400);
      expect(await malformed.text()).toContain('must be an email address');
      expect(await email()).toBe(relay);
    });

    it('closes an account only after a confirmation page', async () => {
      const { dev, app, client } = await appWithUsers();
      const { connection } = await signIn(client, 'Closable');
      const confirm = await get(`/developer/apps/${app.id}/users/${connection.id}/close`, dev.jar);
      expect(confirm.res.status).toBe(200);
      expect(confirm.html).toContain('Close account</button>');
      const res = await postForm(t.baseUrl, `/developer/apps/${app.id}/users/${connection.id}/close`, { _csrf: confirm.csrf! }, dev.jar);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/developer/apps/${app.id}/users?done=closed`);
      const json = await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users`));
      expect(json.total).toBe(0);
      expect((await get(`/developer/apps/${app.id}/users/${connection.id}`, dev.jar)).res.status).toBe(404);
      const page = await get(res.headers.get('location')!, dev.jar);
      expect(page.html).toContain('Account closed.');
    });
  });

  describe('webhooks', () => {
    it('shows the endpoint state, logs a test ping, shows a delivery with attempts and redelivers it', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const empty = await get(`/developer/apps/${app.id}/webhooks`, dev.jar);
      expect(empty.html).toContain('not configured');
      expect(empty.html).toContain('No deliveries yet.');
      expect(empty.html).not.toContain('Send test ping');

      await submit(dev.jar, `/developer/apps/${app.id}`, `/developer/apps/${app.id}`, {
        name: 'Portal App',
        redirectUris: 'https://portal-app.example/cb',
        webhookUrl: 'http://127.0.0.1:9/hooks',
        logoUrl: '',
      });
      const page = await get(`/developer/apps/${app.id}/webhooks`, dev.jar);
      expect(page.html).toMatch(/id="endpoint-status"><span class="badge badge-ok">enabled/);
      const ping = await postForm(t.baseUrl, `/developer/apps/${app.id}/webhooks/test`, { _csrf: page.csrf! }, dev.jar);
      expect(ping.status).toBe(303);
      expect(ping.headers.get('location')).toBe(`/developer/apps/${app.id}/webhooks?done=ping`);
      const log = await get(ping.headers.get('location')!, dev.jar);
      expect(log.html).toContain('Test ping queued');
      expect(log.html).toContain('<code>ping</code>');
      const deliveries = await readJson<{ deliveries: { id: string; type: string; status: string }[] }>(
        await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/webhooks/deliveries`),
      );
      const id = deliveries.deliveries[0].id;
      expect(log.html).toContain(`/developer/apps/${app.id}/webhooks/${id}`);

      const detail = await get(`/developer/apps/${app.id}/webhooks/${id}`, dev.jar);
      expect(detail.res.status).toBe(200);
      expect(detail.html).toContain(id);
      expect(detail.html).toContain('&quot;type&quot;: &quot;ping&quot;');
      const redeliver = await postForm(t.baseUrl, `/developer/apps/${app.id}/webhooks/${id}/redeliver`, { _csrf: detail.csrf! }, dev.jar);
      expect(redeliver.status).toBe(303);
      expect(redeliver.headers.get('location')).toBe(`/developer/apps/${app.id}/webhooks/${id}?done=redelivered`);
      expect((await get(redeliver.headers.get('location')!, dev.jar)).html).toContain('Queued for redelivery.');
      expect((await get(`/developer/apps/${app.id}/webhooks/nope`, dev.jar)).res.status).toBe(404);
    });
  });

  describe('security', () => {
    it('escapes <script>alert(1)</script> as an app name and as a user name on every page', async () => {
      const evil = '<script>alert(1)</script>';
      const dev = await signUpDeveloperByForm(evil);
      const app = await createAppByForm(dev.jar, { name: evil });
      const client: ClientApp = { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: 'https://portal-app.example/cb', developerCookie: dev.cookie };
      const user = await signUpUser(t.baseUrl, { name: evil, region: evil });
      await codeFor(t.baseUrl, client, user);
      const connection = (await readJson<UsersPage>(await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}/users`))).users[0];
      const pages = [
        '/developer/apps',
        `/developer/apps/${app.id}`,
        `/developer/apps/${app.id}/delete`,
        `/developer/apps/${app.id}/users`,
        `/developer/apps/${app.id}/users?search=${encodeURIComponent(evil)}`,
        `/developer/apps/${app.id}/users/${connection.id}`,
        `/developer/apps/${app.id}/users/${connection.id}/close`,
        `/developer/apps/${app.id}/webhooks`,
        `/developer/apps/${app.id}/integrate`,
      ];
      for (const path of pages) {
        const page = await get(path, dev.jar);
        expect(page.res.status).toBe(200);
        expect(page.html).not.toContain(evil);
        expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      }
      const table = await get(`/developer/apps/${app.id}/users`, dev.jar);
      expect(table.html).toContain('<td class="user-name">&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    });

    it('shows only its own fixed notices: ?done=constructor (or any inherited name) prints nothing', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const pages = ['/developer/apps', `/developer/apps/${app.id}`, `/developer/apps/${app.id}/users`, `/developer/apps/${app.id}/webhooks`];
      for (const path of pages) {
        for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
          const page = await get(`${path}?done=${key}`, dev.jar);
          expect(page.res.status).toBe(200);
          expect(page.html).not.toContain('native code');
          expect(page.html).not.toContain('class="notice');
        }
      }
    });

    it('refuses a form without a valid _csrf or from another site (403), and sends an anonymous POST to the login', async () => {
      const dev = await signUpDeveloperByForm();
      const app = await createAppByForm(dev.jar);
      const page = await get(`/developer/apps/${app.id}`, dev.jar);
      const attempts: [string, Record<string, string>, Record<string, string>][] = [
        [`/developer/apps/${app.id}/delete`, {}, {}],
        [`/developer/apps/${app.id}/delete`, { _csrf: 'forged' }, {}],
        [`/developer/apps/${app.id}/delete`, { _csrf: page.csrf! }, { origin: 'https://evil.example' }],
        [`/developer/apps/${app.id}/client-secret`, { _csrf: page.csrf! }, { 'sec-fetch-site': 'cross-site' }],
        ['/developer/apps', { _csrf: 'forged', name: 'X', redirectUris: 'https://x.example/cb' }, {}],
        ['/developer/logout', {}, {}],
      ];
      for (const [path, fields, headers] of attempts) {
        const res = await postForm(t.baseUrl, path, fields, dev.jar, headers);
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toMatch(/text\/html/);
      }
      // A CSRF token of another browser (cookie) is refused too.
      const other = new CookieJar();
      const otherPage = await get('/developer/login', other);
      expect((await postForm(t.baseUrl, `/developer/apps/${app.id}/delete`, { _csrf: otherPage.csrf! }, dev.jar)).status).toBe(403);
      // Login CSRF: a login form posted without the token is refused.
      expect((await postForm(t.baseUrl, '/developer/login', { email: dev.email, password: dev.password }, new CookieJar())).status).toBe(403);
      expect((await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`)).status).toBe(200);

      const anonymous = new CookieJar();
      const anonPage = await get('/developer/login', anonymous);
      const res = await postForm(t.baseUrl, `/developer/apps/${app.id}/delete`, { _csrf: anonPage.csrf! }, anonymous);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/developer/login');
      expect((await developerRequest(t.baseUrl, dev.cookie, 'GET', `/api/developer/applications/${app.id}`)).status).toBe(200);
    });

    it("isolates tenants: developer B gets 404 on every page and action of A's app and users", async () => {
      const a = await signUpDeveloperByForm('Developer A');
      const b = await signUpDeveloperByForm('Developer B');
      const appA = await createAppByForm(a.jar, { webhookUrl: 'http://127.0.0.1:9/hooks' });
      const appB = await createAppByForm(b.jar);
      const clientA: ClientApp = { id: appA.id, clientId: appA.clientId, clientSecret: appA.clientSecret, redirectUri: 'https://portal-app.example/cb', developerCookie: a.cookie };
      await codeFor(t.baseUrl, clientA);
      const connection = (await readJson<UsersPage>(await developerRequest(t.baseUrl, a.cookie, 'GET', `/api/developer/applications/${appA.id}/users`))).users[0];
      await developerRequest(t.baseUrl, a.cookie, 'POST', `/api/developer/applications/${appA.id}/webhooks/test`);
      const delivery = (
        await readJson<{ deliveries: { id: string; type: string; status: string }[] }>(
          await developerRequest(t.baseUrl, a.cookie, 'GET', `/api/developer/applications/${appA.id}/webhooks/deliveries`),
        )
      ).deliveries[0];

      const pagesOfA = [
        `/developer/apps/${appA.id}`,
        `/developer/apps/${appA.id}/credentials`,
        `/developer/apps/${appA.id}/delete`,
        `/developer/apps/${appA.id}/integrate`,
        `/developer/apps/${appA.id}/users`,
        `/developer/apps/${appA.id}/users/${connection.id}`,
        `/developer/apps/${appA.id}/users/${connection.id}/close`,
        `/developer/apps/${appA.id}/webhooks`,
        `/developer/apps/${appA.id}/webhooks/${delivery.id}`,
        // A's ids under B's own app.
        `/developer/apps/${appB.id}/users/${connection.id}`,
        `/developer/apps/${appB.id}/users/${connection.id}/close`,
        `/developer/apps/${appB.id}/webhooks/${delivery.id}`,
      ];
      for (const path of pagesOfA) {
        const page = await get(path, b.jar);
        expect([path, page.res.status]).toEqual([path, 404]);
        expect(page.html).not.toContain(appA.clientId);
      }
      const bPage = await get('/developer/apps', b.jar);
      expect(bPage.html).not.toContain(appA.id);
      const csrf = bPage.csrf!;
      const actions: [string, Record<string, string>][] = [
        [`/developer/apps/${appA.id}`, { name: 'Hijacked', redirectUris: 'https://evil.example/cb', webhookUrl: '', logoUrl: '' }],
        [`/developer/apps/${appA.id}/client-secret`, {}],
        [`/developer/apps/${appA.id}/webhook-secret`, {}],
        [`/developer/apps/${appA.id}/delete`, {}],
        [`/developer/apps/${appA.id}/users/${connection.id}/block`, { blocked: 'true' }],
        [`/developer/apps/${appA.id}/users/${connection.id}/forwarding`, { isForwarding: 'false' }],
        [`/developer/apps/${appA.id}/users/${connection.id}/email`, { appEmail: '' }],
        [`/developer/apps/${appA.id}/users/${connection.id}/close`, {}],
        [`/developer/apps/${appA.id}/webhooks/test`, {}],
        [`/developer/apps/${appA.id}/webhooks/${delivery.id}/redeliver`, {}],
        [`/developer/apps/${appB.id}/users/${connection.id}/block`, { blocked: 'true' }],
        [`/developer/apps/${appB.id}/users/${connection.id}/close`, {}],
        [`/developer/apps/${appB.id}/webhooks/${delivery.id}/redeliver`, {}],
      ];
      for (const [path, fields] of actions) {
        const res = await postForm(t.baseUrl, path, { _csrf: csrf, ...fields }, b.jar);
        expect([path, res.status]).toEqual([path, 404]);
      }
      // Nothing changed on A's side.
      const stillA = await readJson(await developerRequest(t.baseUrl, a.cookie, 'GET', `/api/developer/applications/${appA.id}`));
      expect(stillA.name).toBe('Portal App');
      const users = await readJson<UsersPage>(await developerRequest(t.baseUrl, a.cookie, 'GET', `/api/developer/applications/${appA.id}/users`));
      expect(users.users[0]).toMatchObject({ id: connection.id, blocked: false, isForwarding: true, email: connection.email });
      const clientStill = await codeFor(t.baseUrl, clientA);
      expect((await exchangeCode(t.baseUrl, clientA, { code: clientStill.code, code_verifier: clientStill.verifier })).res.status).toBe(200);
    });
  });
});
