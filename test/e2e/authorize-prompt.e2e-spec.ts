import Redis from 'ioredis';
import { REDIS, sha256Hex } from '@app/common';
import { signUpUser, TestUser, USER_COOKIE } from '../support/accounts';
import { getPage, inputValue, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, authorizePath, callbackParams, ClientApp, createClientApp, exchangeCode, pkcePair } from '../support/oauth';

/** OIDC Core 3.1.2.1: prompt, max_age, login_hint and id_token_hint at /oauth/authorize. */
describe('Authorization requests: prompt, max_age, login_hint, id_token_hint', () => {
  let t: TestApp;
  let app: ClientApp;
  let redis: Redis;
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl);
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t.close());

  const params = (extra: Record<string, string | undefined> = {}) => {
    const pkce = pkcePair();
    return {
      verifier: pkce.verifier,
      query: {
        response_type: 'code',
        client_id: app.clientId,
        redirect_uri: app.redirectUri,
        scope: 'openid profile email',
        state: 'st',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...extra,
      },
    };
  };

  const claims = (idToken: string) => JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString()) as { sub: string; auth_time: number };

  /** Consents once and returns the id_token of that sign-in. */
  async function connect(user: TestUser): Promise<string> {
    const { verifier, query } = params();
    const { res, consentShown } = await authorizeAs(t.baseUrl, user, query);
    expect(consentShown).toBe(true);
    const { body } = await exchangeCode(t.baseUrl, app, { code: callbackParams(res).get('code')!, code_verifier: verifier });
    return body.id_token!;
  }

  /** Moves the session's sign-in `seconds` into the past, as if the user had signed in that long ago. */
  async function ageSession(user: TestUser, seconds: number): Promise<void> {
    const key = `sess:{${sha256Hex(user.sessionId)}}`;
    const stored = JSON.parse((await redis.get(key))!) as { authTime: number; createdAt: number };
    stored.authTime -= seconds;
    stored.createdAt -= seconds;
    await redis.set(key, JSON.stringify(stored), 'KEEPTTL');
  }

  /** The error redirect of a request: error, state and iss (RFC 9207). */
  function expectError(res: Response, error: string) {
    expect(res.status).toBe(303);
    const back = callbackParams(res);
    expect(back.get('error')).toBe(error);
    expect(back.get('state')).toBe('st');
    expect(back.get('iss')).toBe(t.baseUrl);
    expect(back.get('code')).toBeNull();
  }

  /** Follows the login redirect as the user: the login page, the password form, and back to return_to. */
  async function signInAgain(user: TestUser, loginLocation: string): Promise<Response> {
    const page = await getPage(t.baseUrl, loginLocation, user.jar);
    expect(page.res.status).toBe(200);
    const returnTo = inputValue(page.html, 'return_to')!;
    const login = await postForm(t.baseUrl, '/login', { _csrf: page.csrf!, return_to: returnTo, email: user.email, password: user.password }, user.jar);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(returnTo);
    return (await getPage(t.baseUrl, returnTo, user.jar)).res;
  }

  describe('prompt=none', () => {
    it('without a session: login_required, never a page', async () => {
      const res = await fetch(`${t.baseUrl}${authorizePath(params({ prompt: 'none' }).query)}`, { redirect: 'manual' });
      expectError(res, 'login_required');
    });

    it('with a session but no consent: consent_required; with consent: a code at once', async () => {
      const user = await signUpUser(t.baseUrl);
      expectError((await getPage(t.baseUrl, authorizePath(params({ prompt: 'none' }).query), user.jar)).res, 'consent_required');
      await connect(user);
      const again = await getPage(t.baseUrl, authorizePath(params({ prompt: 'none' }).query), user.jar);
      expect(callbackParams(again.res).get('code')).toBeTruthy();
      expect(callbackParams(again.res).get('iss')).toBe(t.baseUrl);
    });

    it('a sign-in older than max_age: login_required', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      await ageSession(user, 120);
      expectError((await getPage(t.baseUrl, authorizePath(params({ prompt: 'none', max_age: '60' }).query), user.jar)).res, 'login_required');
      const young = await getPage(t.baseUrl, authorizePath(params({ prompt: 'none', max_age: '600' }).query), user.jar);
      expect(callbackParams(young.res).get('code')).toBeTruthy();
    });

    it('id_token_hint: the signed-in user passes, another user is login_required, a forged hint invalid_request', async () => {
      const alice = await signUpUser(t.baseUrl);
      const bob = await signUpUser(t.baseUrl);
      const aliceToken = await connect(alice);
      const bobToken = await connect(bob);
      const own = await getPage(t.baseUrl, authorizePath(params({ prompt: 'none', id_token_hint: aliceToken }).query), alice.jar);
      expect(callbackParams(own.res).get('code')).toBeTruthy();
      expectError((await getPage(t.baseUrl, authorizePath(params({ prompt: 'none', id_token_hint: bobToken }).query), alice.jar)).res, 'login_required');
      const [header, payload] = aliceToken.split('.');
      const forged = `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;
      expectError((await getPage(t.baseUrl, authorizePath(params({ prompt: 'none', id_token_hint: forged }).query), alice.jar)).res, 'invalid_request');
    });
  });

  describe('prompt=login and max_age', () => {
    it('prompt=login with a session shows the login page; after a fresh sign-in the flow goes on and auth_time is the new sign-in', async () => {
      const user = await signUpUser(t.baseUrl);
      const first = claims(await connect(user));
      await ageSession(user, 100);
      const { verifier, query } = params({ prompt: 'login' });
      const start = await getPage(t.baseUrl, authorizePath(query), user.jar);
      expect(start.res.status).toBe(303);
      const location = start.res.headers.get('location')!;
      expect(location).toMatch(/^\/login\?return_to=/);

      const back = await signInAgain(user, location);
      expect(back.status).toBe(303);
      const code = callbackParams(back).get('code')!;
      expect(code).toBeTruthy();
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      const fresh = claims(body.id_token!);
      expect(fresh.sub).toBe(first.sub);
      // The aged session says first.auth_time - 100: only the new sign-in gives a later one.
      expect(fresh.auth_time).toBeGreaterThanOrEqual(first.auth_time);
    });

    it('the marker of a fresh sign-in is spent once and cannot be made up', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      await ageSession(user, 100);
      const start = await getPage(t.baseUrl, authorizePath(params({ prompt: 'login' }).query), user.jar);
      const location = start.res.headers.get('location')!;
      const returnTo = new URL(location, t.baseUrl).searchParams.get('return_to')!;
      expect(new URL(returnTo, t.baseUrl).searchParams.get('signed_in')).toBeTruthy();
      // Coming back without signing in again asks for the sign-in again.
      const noSignIn = await getPage(t.baseUrl, returnTo, user.jar);
      expect(noSignIn.res.headers.get('location')).toMatch(/^\/login\?/);

      const next = await getPage(t.baseUrl, authorizePath(params({ prompt: 'login' }).query), user.jar);
      const used = new URL(next.res.headers.get('location')!, t.baseUrl).searchParams.get('return_to')!;
      expect(callbackParams(await signInAgain(user, next.res.headers.get('location')!)).get('code')).toBeTruthy();
      // The same URL again, even right after a sign-in: the marker is spent.
      expect((await getPage(t.baseUrl, used, user.jar)).res.headers.get('location')).toMatch(/^\/login\?/);
      const madeUp = new URL(used, t.baseUrl);
      madeUp.searchParams.set('signed_in', 'made-up');
      expect((await getPage(t.baseUrl, `${madeUp.pathname}${madeUp.search}`, user.jar)).res.headers.get('location')).toMatch(/^\/login\?/);
    });

    it('prompt=login without a session signs in once, without a loop', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      user.jar.delete(USER_COOKIE);
      const start = await getPage(t.baseUrl, authorizePath(params({ prompt: 'login' }).query), user.jar);
      const back = await signInAgain(user, start.res.headers.get('location')!);
      expect(callbackParams(back).get('code')).toBeTruthy();
    });

    it('max_age: an older sign-in is asked again, a recent one is not', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      const recent = await getPage(t.baseUrl, authorizePath(params({ max_age: '600' }).query), user.jar);
      expect(callbackParams(recent.res).get('code')).toBeTruthy();
      await ageSession(user, 120);
      const { verifier, query } = params({ max_age: '60' });
      const old = await getPage(t.baseUrl, authorizePath(query), user.jar);
      expect(old.res.headers.get('location')).toMatch(/^\/login\?/);
      const back = await signInAgain(user, old.res.headers.get('location')!);
      const { body } = await exchangeCode(t.baseUrl, app, { code: callbackParams(back).get('code')!, code_verifier: verifier });
      expect(Math.floor(Date.now() / 1000) - claims(body.id_token!).auth_time).toBeLessThan(60);
    });

    it('max_age=0 is satisfied by the sign-in it asked for', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      await ageSession(user, 5);
      const start = await getPage(t.baseUrl, authorizePath(params({ max_age: '0' }).query), user.jar);
      expect(start.res.headers.get('location')).toMatch(/^\/login\?/);
      const back = await signInAgain(user, start.res.headers.get('location')!);
      expect(callbackParams(back).get('code')).toBeTruthy();
    });
  });

  describe('prompt=consent, login_hint, bad values', () => {
    it('prompt=consent shows the consent page even when consent is remembered', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      expect((await authorizeAs(t.baseUrl, user, params().query)).consentShown).toBe(false);
      const { res, consentShown } = await authorizeAs(t.baseUrl, user, params({ prompt: 'consent' }).query);
      expect(consentShown).toBe(true);
      expect(callbackParams(res).get('code')).toBeTruthy();
    });

    it('select_account is accepted: the signed-in account is the selection', async () => {
      const user = await signUpUser(t.baseUrl);
      await connect(user);
      const page = await getPage(t.baseUrl, authorizePath(params({ prompt: 'select_account' }).query), user.jar);
      expect(callbackParams(page.res).get('code')).toBeTruthy();
    });

    it('login_hint fills the login page email field, escaped', async () => {
      const hint = 'a"><script>x</script>@example.com';
      const res = await fetch(`${t.baseUrl}${authorizePath(params({ login_hint: hint }).query)}`, { redirect: 'manual' });
      const location = res.headers.get('location')!;
      expect(new URL(location, t.baseUrl).searchParams.get('login_hint')).toBe(hint);
      const page = await (await fetch(`${t.baseUrl}${location}`)).text();
      expect(inputValue(page, 'email')).toBe(hint);
      expect(page).not.toContain('<script>x</script>');
      expect(page).toContain('value="a&quot;&gt;&lt;script&gt;x&lt;/script&gt;@example.com"');
    });

    it.each([
      ['max_age=-1', { max_age: '-1' }],
      ['max_age=abc', { max_age: 'abc' }],
      ['prompt=none login', { prompt: 'none login' }],
      ['an unknown prompt value', { prompt: 'login bogus' }],
      ['an overlong login_hint', { login_hint: `${'a'.repeat(320)}@x` }],
    ])('%s: redirect with invalid_request (and iss)', async (_, extra) => {
      const user = await signUpUser(t.baseUrl);
      expectError((await getPage(t.baseUrl, authorizePath(params(extra).query), user.jar)).res, 'invalid_request');
    });
  });
});
