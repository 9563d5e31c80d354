import { ConnectionsRepository } from '@app/connections';
import { ApplicationsRepository } from '@app/developer';
import { TokensRepository } from '@app/oauth';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';
import { confirmSignUpAddress, signUpUser, TestUser, uniqueEmail } from '../support/accounts';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { getPage, inputValue, postForm, submitForm } from '../support/forms';
import { mailsTo } from '../support/mailbox';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, ClientApp, codeFor, connectWithRefresh, createClientApp, currentUser, exchangeCode, pkcePair } from '../support/oauth';

/**
 * /api/user, userinfo and introspection answer from an in-process cache; these
 * check that every change that matters is seen on the very next request, in
 * the process that made it and in another API process (a child process on
 * the same database and Redis), and that nothing else costs a MySQL query.
 */
describe('token lookup cache', () => {
  let t: TestApp;
  let other: ApiProcess;
  let app: ClientApp;

  beforeAll(async () => {
    t = await startApi();
    other = await startApiProcess(t.env, await freePort());
    app = await createClientApp(t.baseUrl);
  });
  afterAll(async () => {
    await other?.stop();
    await t?.close();
  });

  const both = () => [t.baseUrl, other.baseUrl];

  /** A signed-in connection (openid profile email) whose token both processes have cached (the first use of a connection learns whose it is; the second caches). */
  async function signedIn(user?: TestUser, client = app, share = 'relay') {
    const who = user ?? (await signUpUser(t.baseUrl));
    const { body } = await connectWithRefresh(t.baseUrl, client, who, share);
    const token = body.access_token;
    let id = '';
    for (const base of [...both(), ...both()]) {
      const { res, body: profile } = await currentUser(base, token);
      expect(res.status).toBe(200);
      id = profile.id;
    }
    return { token, connectionId: id, user: who };
  }

  /** A returning user's authorization (remembered consent) and code exchange: the access token. */
  async function returningSignIn(user: TestUser): Promise<string> {
    const pkce = pkcePair();
    const query = { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, scope: 'openid profile email', state: 's' };
    const { res } = await getPage(t.baseUrl, authorizePath({ ...query, code_challenge: pkce.challenge, code_challenge_method: 'S256' }), user.jar);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    return (await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier })).body.access_token;
  }

  const statuses = async (token: string) => Promise.all(both().map(async (base) => (await currentUser(base, token)).res.status));

  const userinfo = async (base: string, token: string) => {
    const res = await fetch(`${base}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const clientPost = (base: string, path: string, fields: Record<string, string>, client = app) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, ...fields }),
    });

  it('answers repeated requests without a MySQL query while nothing changed', async () => {
    const { token } = await signedIn();
    const repository = t.app.get(TokensRepository);
    const lookups = jest.spyOn(repository, 'lookupAccessToken');
    try {
      for (let i = 0; i < 20; i++) expect((await currentUser(t.baseUrl, token)).res.status).toBe(200);
      expect((await userinfo(t.baseUrl, token)).status).toBe(200);
      const introspection = await clientPost(t.baseUrl, '/oauth/introspect', { token });
      expect(await introspection.json()).toMatchObject({ active: true });
      expect(lookups).not.toHaveBeenCalled();
    } finally {
      lookups.mockRestore();
    }
  });

  it("answers a returning user's authorization request from memory, and sees consent, blocking and application changes made elsewhere on the next one", async () => {
    const user = await signUpUser(t.baseUrl);
    const { connectionId } = await signedIn(user);
    const params = {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope: 'openid profile email',
      state: 'st',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    };
    const authorize = async (base = t.baseUrl) => {
      const { res } = await getPage(base, authorizePath(params), user.jar);
      const location = res.headers.get('location');
      const query = location?.startsWith(app.redirectUri) ? new URL(location).searchParams : null;
      return { status: res.status, code: query?.get('code') ?? null, error: query?.get('error') ?? null };
    };
    const issuedCode: unknown = { status: 303, code: expect.any(String) as unknown, error: null };
    for (const base of both()) expect(await authorize(base)).toEqual(issuedCode);

    const connectionLookups = jest.spyOn(t.app.get(ConnectionsRepository), 'find');
    const applicationLookups = jest.spyOn(t.app.get(ApplicationsRepository), 'findByClientId');
    try {
      for (let i = 0; i < 5; i++) expect(await authorize()).toEqual(issuedCode);
      expect(connectionLookups).not.toHaveBeenCalled();
      expect(applicationLookups).not.toHaveBeenCalled();
    } finally {
      connectionLookups.mockRestore();
      applicationLookups.mockRestore();
    }

    // "Stop using" through the other process: this one asks for consent again.
    const page = await getPage(other.baseUrl, `/account/apps/${connectionId}`, user.jar);
    expect((await postForm(other.baseUrl, `/account/apps/${connectionId}/revoke`, { _csrf: page.csrf! }, user.jar)).status).toBe(303);
    expect(await authorize()).toEqual({ status: 200, code: null, error: null });
    const again = await authorizeAs(t.baseUrl, user, params);
    expect(again.consentShown).toBe(true);
    expect(await authorize(other.baseUrl)).toEqual(issuedCode);

    // Blocked and unblocked by the developer through the other process.
    const block = (blocked: boolean) =>
      fetch(`${other.baseUrl}/api/developer/applications/${app.id}/users/${connectionId}`, {
        method: 'PATCH',
        headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
        body: JSON.stringify({ blocked }),
      });
    expect((await block(true)).status).toBe(200);
    expect(await authorize()).toEqual({ status: 303, code: null, error: 'access_denied' });
    expect((await block(false)).status).toBe(200);
    expect(await authorize()).toEqual(issuedCode);

    // The redirect URI removed through the other process: this one no longer redirects there.
    const patched = await fetch(`${other.baseUrl}/api/developer/applications/${app.id}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ redirectUris: ['https://elsewhere.example/cb'] }),
    });
    expect(patched.status).toBe(200);
    expect((await authorize()).status).toBe(400);
    const restored = await fetch(`${other.baseUrl}/api/developer/applications/${app.id}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ redirectUris: [app.redirectUri] }),
    });
    expect(restored.status).toBe(200);
    expect(await authorize()).toEqual(issuedCode);
  });

  it("a returning user's whole sign-in (authorize, token with id_token, /api/user) costs one MySQL statement: the access token's row", async () => {
    const user = await signUpUser(t.baseUrl);
    await signedIn(user);
    const signIn = async () => expect((await currentUser(t.baseUrl, await returningSignIn(user))).res.status).toBe(200);
    await signIn(); // this process knows the connection's profile now
    // A new token is answered from that profile once it is newer than the profile by more than the
    // allowed clock skew between processes (5 s): the clock, not an event, is what this waits for.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const statements = jest.spyOn(MysqlQueryRunner.prototype, 'query');
    try {
      await signIn();
      await signIn();
      const sql = statements.mock.calls.map(([text]) => String(text).trim().replace(/\s+/g, ' ').slice(0, 40));
      expect(sql).toEqual([expect.stringMatching(/^INSERT INTO access_tokens/), expect.stringMatching(/^INSERT INTO access_tokens/)]);
    } finally {
      statements.mockRestore();
    }
  });

  it('sees a block made through the other process on the very next request', async () => {
    const { token, connectionId } = await signedIn();
    const res = await fetch(`${other.baseUrl}/api/developer/applications/${app.id}/users/${connectionId}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ blocked: true }),
    });
    expect(res.status).toBe(200);
    expect(await statuses(token)).toEqual([401, 401]);
  });

  it('sees a rename and a new image in /api/user and userinfo, every time', async () => {
    const user = await signUpUser(t.baseUrl);
    const { token } = await signedIn(user);
    for (let i = 0; i < 5; i++) {
      const image = `https://img.example/${i}.png`;
      const res = await submitForm(t.baseUrl, '/account', { name: `Renamed ${i}`, image, region: 'France' }, user.jar, '/account/profile');
      expect(res.status).toBe(303);
      const { body } = await currentUser(other.baseUrl, token);
      expect([body.name, body.image]).toEqual([`Renamed ${i}`, image]);
      expect((await userinfo(other.baseUrl, token)).body).toMatchObject({ name: `Renamed ${i}`, picture: image });
      expect((await currentUser(t.baseUrl, token)).body.name).toBe(`Renamed ${i}`);
    }
  });

  it("sees the user's new choice of shared address, and a revoked consent", async () => {
    const user = await signUpUser(t.baseUrl);
    const { token, connectionId } = await signedIn(user);
    expect((await currentUser(other.baseUrl, token)).body.email).toMatch(/@/);
    const page = await getPage(t.baseUrl, `/account/apps/${connectionId}`, user.jar);
    expect((await postForm(t.baseUrl, `/account/apps/${connectionId}/email`, { _csrf: page.csrf!, share: 'none' }, user.jar)).status).toBe(303);
    expect((await currentUser(other.baseUrl, token)).body.email).toBeNull();
    expect((await postForm(t.baseUrl, `/account/apps/${connectionId}/revoke`, { _csrf: page.csrf! }, user.jar)).status).toBe(303);
    expect(await statuses(token)).toEqual([401, 401]);
  });

  it('sees the deletion of the account and of a connection by its developer', async () => {
    const user = await signUpUser(t.baseUrl);
    const first = await signedIn(user);
    const page = await getPage(t.baseUrl, '/account/delete', user.jar);
    expect((await postForm(t.baseUrl, '/account/delete', { _csrf: page.csrf!, password: user.password }, user.jar)).status).toBe(303);
    expect(await statuses(first.token)).toEqual([401, 401]);

    const second = await signedIn();
    const res = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users/${second.connectionId}`, { method: 'DELETE', headers: { cookie: app.developerCookie } });
    expect(res.status).toBe(204);
    expect(await statuses(second.token)).toEqual([401, 401]);
  });

  it('sees tokens revoked at the revocation endpoint, refresh token families revoked, and replayed codes', async () => {
    const revoked = await signedIn();
    expect((await clientPost(t.baseUrl, '/oauth/revoke', { token: revoked.token })).status).toBe(200);
    expect(await statuses(revoked.token)).toEqual([401, 401]);
    const introspection = await clientPost(other.baseUrl, '/oauth/introspect', { token: revoked.token });
    expect(await introspection.json()).toEqual({ active: false });

    const user = await signUpUser(t.baseUrl);
    const { body } = await connectWithRefresh(t.baseUrl, app, user);
    for (const base of [...both(), ...both()]) expect((await currentUser(base, body.access_token)).res.status).toBe(200);
    expect((await clientPost(other.baseUrl, '/oauth/revoke', { token: body.refresh_token! })).status).toBe(200);
    expect(await statuses(body.access_token)).toEqual([401, 401]);

    const { code, verifier } = await codeFor(t.baseUrl, app);
    const exchanged = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    for (const base of [...both(), ...both()]) expect((await currentUser(base, exchanged.body.access_token)).res.status).toBe(200);
    expect((await exchangeCode(other.baseUrl, app, { code, code_verifier: verifier })).res.status).toBe(400);
    expect(await statuses(exchanged.body.access_token)).toEqual([401, 401]);
  });

  it("never answers a token revoked before its connection's profile was cached from that profile, and ends the profile with a later revocation", async () => {
    const user = await signUpUser(t.baseUrl);
    await signedIn(user);
    const signIn = () => returningSignIn(user);
    const unused = await signIn();
    expect((await clientPost(other.baseUrl, '/oauth/revoke', { token: unused })).status).toBe(200);
    // Past the clock-skew margin, a newer token caches the connection's profile on both processes.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const fresh = await signIn();
    for (const base of [...both(), ...both()]) expect((await currentUser(base, fresh)).res.status).toBe(200);
    expect(await statuses(unused)).toEqual([401, 401]);
    // A token newer than the profile, revoked: the revocation ends the profile everywhere.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const newer = await signIn();
    expect(await statuses(newer)).toEqual([200, 200]);
    expect((await clientPost(other.baseUrl, '/oauth/revoke', { token: newer })).status).toBe(200);
    expect(await statuses(newer)).toEqual([401, 401]);
    expect(await statuses(fresh)).toEqual([200, 200]);
  });

  it('sees the deletion of the application', async () => {
    const client = await createClientApp(t.baseUrl);
    const { token } = await signedIn(undefined, client);
    const res = await fetch(`${t.baseUrl}/api/developer/applications/${client.id}`, { method: 'DELETE', headers: { cookie: client.developerCookie } });
    expect(res.status).toBe(204);
    expect(await statuses(token)).toEqual([401, 401]);
  });

  it("a change of one user leaves other users' cached lookups in place", async () => {
    const mine = await signedIn();
    const theirs = await signedIn();
    const repository = t.app.get(TokensRepository);
    const page = await getPage(t.baseUrl, `/account/apps/${mine.connectionId}`, mine.user.jar);
    expect((await postForm(t.baseUrl, `/account/apps/${mine.connectionId}/revoke`, { _csrf: page.csrf! }, mine.user.jar)).status).toBe(303);
    const lookups = jest.spyOn(repository, 'lookupAccessToken');
    try {
      expect((await currentUser(t.baseUrl, theirs.token)).res.status).toBe(200);
      expect(lookups).not.toHaveBeenCalled();
      expect((await currentUser(t.baseUrl, mine.token)).res.status).toBe(401);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      lookups.mockRestore();
    }
  });

  it('sees the removal of a shared linked address (the app sees its relay address)', async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmSignUpAddress(t.baseUrl, user);
    const second = uniqueEmail('second');
    expect((await submitForm(t.baseUrl, '/account/emails', { password: user.password, email: second }, user.jar)).status).toBe(303);
    const [mail] = await mailsTo(t.baseUrl, second);
    const link = new URL(/href="([^"]*\/account\/emails\/verify\?token=[^"]*)"/.exec(mail)![1].replace(/&amp;/g, '&'));
    const confirm = await getPage(t.baseUrl, `${link.pathname}${link.search}`, user.jar);
    expect((await postForm(t.baseUrl, '/account/emails/verify', { _csrf: confirm.csrf!, token: inputValue(confirm.html, 'token')! }, user.jar)).status).toBe(303);
    const shared = await signedIn(user, await createClientApp(t.baseUrl), second);
    expect((await currentUser(other.baseUrl, shared.token)).body.email).toBe(second);
    expect((await submitForm(t.baseUrl, '/account/emails', { email: second }, user.jar, '/account/emails/remove')).status).toBe(303);
    const relay = (await currentUser(other.baseUrl, shared.token)).body.email;
    expect(relay).not.toBe(second);
    expect(relay).toMatch(/@/);
    expect((await userinfo(other.baseUrl, shared.token)).body).toMatchObject({ email: relay, email_verified: true });
  });
});
