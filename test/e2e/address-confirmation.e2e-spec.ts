import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '@app/common';
import { MailerService } from '@app/identity';
import { signUpUser, TestUser } from '../support/accounts';
import { createApplication, signUpDeveloper } from '../support/developer';
import { CookieJar, getPage, inputValue, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, currentUser, exchangeCode, pkcePair } from '../support/oauth';
import { Row } from '../support/db';

const REDIRECT_URI = 'https://client.example/cb';

describe('Confirmed addresses', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);
  const mailer = () => t.app.get(MailerService);
  const redis = () => t.app.get<Redis>(REDIS);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  /** Waits (bounded) for `count` confirmation mails to `to`; returns their links, newest first. */
  async function confirmationLinks(to: string, count = 1): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const mails = (await mailer().devMailbox()).filter((m) => m.to === to && /Confirm your email address/.test(m.subject));
      if (mails.length >= count) {
        return mails.map((m) => {
          const match = /https?:\/\/\S+\/account\/emails\/verify\?token=[A-Za-z0-9_-]+/.exec(m.text);
          if (!match) throw new Error(`no link in ${m.text}`);
          const url = new URL(match[0]);
          return `${url.pathname}${url.search}`;
        });
      }
      if (Date.now() > deadline) throw new Error(`expected ${count} confirmation mail(s) to ${to}, got ${mails.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const confirmedAt = async (email: string) => ((await db().query<Row[]>('SELECT confirmed_at FROM user_emails WHERE email = ?', [email]))[0]?.confirmed_at ?? null) as Date | null;
  const liveLinks = async (email: string) =>
    Number((await db().query<Row[]>('SELECT COUNT(*) AS n FROM email_verifications WHERE email = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)', [email]))[0].n);

  async function confirm(user: TestUser, path: string) {
    const page = await getPage(t.baseUrl, path, user.jar);
    expect(page.res.status).toBe(200);
    return postForm(t.baseUrl, '/account/emails/verify', { _csrf: page.csrf!, token: inputValue(page.html, 'token')! }, user.jar);
  }

  it('concurrent sign-ups each get their link (a deadlock between their link writes is retried, not dropped)', async () => {
    const users = await Promise.all(Array.from({ length: 24 }, (_, i) => signUpUser(t.baseUrl, { name: `Concurrent ${i}` })));
    for (const user of users) {
      expect(await confirmationLinks(user.email)).toHaveLength(1);
      expect(await liveLinks(user.email)).toBe(1);
    }
  });

  it('sign-up mails a link; the page names the account and needs its session; following it confirms the address', async () => {
    const user = await signUpUser(t.baseUrl, { name: 'Ada <Lovelace>' });
    const [path] = await confirmationLinks(user.email);
    expect(await confirmedAt(user.email)).toBeNull();

    // Without a session: to the login page and back to this very link; nothing confirmed, nothing spent.
    const anonymous = await fetch(`${t.baseUrl}${path}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    const location = new URL(anonymous.headers.get('location')!, t.baseUrl);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('return_to')).toBe(path);
    const anonymousPost = await postForm(t.baseUrl, '/account/emails/verify', { token: new URL(path, t.baseUrl).searchParams.get('token')! }, new CookieJar());
    expect(anonymousPost.status).toBe(303);
    expect(anonymousPost.headers.get('location')).toMatch(/^\/login\?return_to=/);
    expect(await liveLinks(user.email)).toBe(1);
    expect(await confirmedAt(user.email)).toBeNull();

    const page = await getPage(t.baseUrl, path, user.jar);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Ada &lt;Lovelace&gt;');
    expect(page.html).toContain(user.globalId);
    expect(page.html).toContain(user.email);
    const done = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: page.csrf!, token: inputValue(page.html, 'token')! }, user.jar);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/account/emails?done=verified');
    expect(await confirmedAt(user.email)).toBeInstanceOf(Date);
    // Single use.
    const again = await getPage(t.baseUrl, path, user.jar);
    expect(again.res.status).toBe(400);
  });

  it('refuses the confirmation link of another account and leaves it unspent', async () => {
    const victim = await signUpUser(t.baseUrl);
    const stranger = await signUpUser(t.baseUrl, { name: 'Stranger' });
    const [path] = await confirmationLinks(victim.email);
    const page = await getPage(t.baseUrl, path, stranger.jar);
    expect(page.res.status).toBe(403);
    expect(page.html).toContain('another LoginSign account');
    expect(page.html).toContain(stranger.globalId);
    expect(page.html).not.toContain(victim.globalId);
    expect(page.html).not.toContain('name="token"');
    // Posting the token directly with the stranger's session: refused too.
    const strangerPage = await getPage(t.baseUrl, '/account/emails', stranger.jar);
    const post = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: strangerPage.csrf!, token: new URL(path, t.baseUrl).searchParams.get('token')! }, stranger.jar);
    expect(post.status).toBe(403);
    expect(await confirmedAt(victim.email)).toBeNull();
    expect(await liveLinks(victim.email)).toBe(1);
    expect((await db().query<Row[]>('SELECT COUNT(*) AS n FROM user_emails WHERE user_id = (SELECT user_id FROM user_emails WHERE email = ?)', [stranger.email]))[0].n).toBe(1);
    // The owner can still use it.
    expect((await confirm(victim, path)).status).toBe(303);
    expect(await confirmedAt(victim.email)).toBeInstanceOf(Date);
  });

  it('the account center shows "confirm your address" with "send again" until the address is confirmed', async () => {
    const user = await signUpUser(t.baseUrl);
    const [first] = await confirmationLinks(user.email);
    const emails = await getPage(t.baseUrl, '/account/emails', user.jar);
    expect(emails.html).toContain('Confirm your address');
    const resend = await postForm(t.baseUrl, '/account/emails/confirm', { _csrf: emails.csrf! }, user.jar);
    expect(resend.status).toBe(303);
    expect(resend.headers.get('location')).toBe('/account/emails?done=confirm-sent');
    const [second] = await confirmationLinks(user.email, 2);
    expect(second).not.toBe(first);
    // The newer link replaced the older one.
    expect((await getPage(t.baseUrl, first, user.jar)).res.status).toBe(400);
    expect((await confirm(user, second)).status).toBe(303);
    const after = await getPage(t.baseUrl, '/account/emails', user.jar);
    expect(after.html).not.toContain('Confirm your address');
    const confirmedAlready = await postForm(t.baseUrl, '/account/emails/confirm', { _csrf: after.csrf! }, user.jar);
    expect(confirmedAlready.status).toBe(400);
    // Without a CSRF token nothing is sent.
    expect((await postForm(t.baseUrl, '/account/emails/confirm', {}, user.jar)).status).toBe(403);
  });

  it('limits the mails per address in a counter that deleting expired links does not reset', async () => {
    const user = await signUpUser(t.baseUrl);
    await confirmationLinks(user.email);
    for (let i = 2; i <= 10; i++) {
      const page = await getPage(t.baseUrl, '/account/emails', user.jar);
      expect((await postForm(t.baseUrl, '/account/emails/confirm', { _csrf: page.csrf! }, user.jar)).status).toBe(303);
    }
    // Housekeeping deletes every expired link row: the limit stays.
    await db().query('UPDATE email_verifications SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE email = ?', [user.email]);
    await db().query('DELETE FROM email_verifications WHERE email = ?', [user.email]);
    const page = await getPage(t.baseUrl, '/account/emails', user.jar);
    const limited = await postForm(t.baseUrl, '/account/emails/confirm', { _csrf: page.csrf! }, user.jar);
    expect(limited.status).toBe(429);
    expect(await redis().ttl(`mail-sent:user:${(await db().query<Row[]>('SELECT user_id FROM user_emails WHERE email = ?', [user.email]))[0].user_id as number}`)).toBeGreaterThan(
      0,
    );
    expect(await liveLinks(user.email)).toBe(0);
  });

  it('bad input on the confirmation endpoints: a 400 page, nothing confirmed or spent', async () => {
    const user = await signUpUser(t.baseUrl);
    const [path] = await confirmationLinks(user.email);
    for (const token of ['x'.repeat(5000), '', 'not-a-token']) {
      const page = await getPage(t.baseUrl, `/account/emails/verify?${new URLSearchParams({ token })}`, user.jar);
      expect(page.res.status).toBe(400);
      const form = await getPage(t.baseUrl, '/account/emails', user.jar);
      const post = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: form.csrf!, token }, user.jar);
      expect(post.status).toBe(400);
    }
    const form = await getPage(t.baseUrl, '/account/emails', user.jar);
    // A repeated field is no string: refused like a missing one.
    const repeated = await postForm(
      t.baseUrl,
      '/account/emails/verify',
      [
        ['_csrf', form.csrf!],
        ['token', 'a'],
        ['token', 'b'],
      ],
      user.jar,
    );
    expect(repeated.status).toBe(400);
    // Without the CSRF token the real link is not spent.
    const token = new URL(path, t.baseUrl).searchParams.get('token')!;
    expect((await postForm(t.baseUrl, '/account/emails/verify', { token }, user.jar)).status).toBe(403);
    expect(await confirmedAt(user.email)).toBeNull();
    expect(await liveLinks(user.email)).toBe(1);
  });

  describe('apps see only confirmed addresses', () => {
    async function clientApp(): Promise<ClientApp> {
      const developer = await signUpDeveloper(t.baseUrl);
      const app = await createApplication(t.baseUrl, developer.cookie, { name: 'Confirm App', redirectUris: [REDIRECT_URI] });
      return { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie };
    }

    const params = (app: ClientApp, challenge: string) => ({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      state: 'st',
      scope: 'openid email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });

    it('the consent page offers an unconfirmed address only after confirmation; an app asking for it reaches the user only then', async () => {
      const app = await clientApp();
      const user = await signUpUser(t.baseUrl);
      const pkce = pkcePair();
      const consent = await getPage(t.baseUrl, `/oauth/authorize?${new URLSearchParams(params(app, pkce.challenge))}`, user.jar);
      expect(consent.res.status).toBe(200);
      expect(consent.html).not.toContain(`value="${user.email}"`);
      // Choosing it anyway is refused.
      const forced = await authorizeAs(t.baseUrl, user, params(app, pkce.challenge), { share: user.email });
      expect(forced.res.status).toBe(400);

      const { res } = await authorizeAs(t.baseUrl, user, params(app, pkce.challenge), { share: 'relay' });
      const code = callbackParams(res).get('code')!;
      const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkce.verifier });
      const profile = await currentUser(t.baseUrl, body.access_token);
      const askFor = async () => {
        const res = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}/users/${profile.body.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', cookie: app.developerCookie },
          body: JSON.stringify({ appEmail: user.email }),
        });
        expect(res.status).toBe(200);
        return (await getPage(t.baseUrl, '/account/apps', user.jar)).html;
      };
      expect(await askFor()).not.toContain('asks to see');

      const [path] = await confirmationLinks(user.email);
      expect((await confirm(user, path)).status).toBe(303);
      expect(await askFor()).toContain(`asks to see <strong>${user.email}</strong>`);
      const other = await clientApp();
      const offered = await getPage(t.baseUrl, `/oauth/authorize?${new URLSearchParams(params(other, pkce.challenge))}`, user.jar);
      expect(offered.res.status).toBe(200);
      expect(offered.html).toContain(`value="${user.email}"`);
    });
  });
});
