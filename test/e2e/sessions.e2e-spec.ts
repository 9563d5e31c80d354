import { expect } from '@jest/globals';
import Redis from 'ioredis';
import { REDIS, SessionService, sha256Hex } from '@app/common';
import { startApi, TestApp } from '../support/harness';
import { signUpUser, TestUser } from '../support/accounts';
import { CookieJar, csrfToken, getPage, postForm } from '../support/forms';
import { fromAddress, postJsonFrom } from '../support/from-address';
import { eventually } from '../support/eventually';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

interface Device {
  cookie: string;
  jar: CookieJar;
}

/** Signs in from `ip` with `userAgent`; the session cookie of that "device". */
async function signIn(t: TestApp, user: TestUser, ip: string, userAgent: string): Promise<Device> {
  const res = await postJsonFrom(ip, t.baseUrl, '/api/account/login', { email: user.email, password: user.password }, { 'user-agent': userAgent });
  expect(res.status).toBe(200);
  const cookie = res.cookies.find((c) => c.startsWith('ls_session='))!;
  return { cookie, jar: new CookieJar().set('ls_session', cookie.slice('ls_session='.length)) };
}

const me = (t: TestApp, device: Device) => fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: device.cookie } }).then((r) => r.status);

/** The session entries of the security page: handle, text, whether it is marked as this device. */
function sessionsOf(html: string): { handle: string; text: string; current: boolean }[] {
  return [...html.matchAll(/<li class="session" data-session="([0-9a-f]{64})">([\s\S]*?)<\/li>/g)].map((m) => ({
    handle: m[1],
    text: m[2].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
    current: m[2].includes('data-current'),
  }));
}

describe('sessions: list, sign out one, sign out the others', () => {
  let t: TestApp;
  let redis: Redis;
  beforeAll(async () => {
    t = await startApi();
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t.close());

  it('lists every session with browser, system, IP and times, and marks this one', async () => {
    const user = await signUpUser(t.baseUrl);
    const laptop = await signIn(t, user, '127.0.0.2', FIREFOX_LINUX);
    await signIn(t, user, '127.0.0.3', SAFARI_IPHONE);
    const page = await getPage(t.baseUrl, '/account/security', laptop.jar, { 'user-agent': FIREFOX_LINUX });
    expect(page.res.status).toBe(200);
    const sessions = sessionsOf(page.html);
    // Sign-up's own session plus the two sign-ins.
    expect(sessions).toHaveLength(3);
    const [first, ...others] = sessions;
    expect(first.current).toBe(true);
    expect(first.text).toMatch(/Firefox 128 on Linux/);
    expect(first.text).toMatch(/IP 127\.0\.0\.2/);
    expect(first.text).toMatch(/signed in \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · last active \d{4}-\d{2}-\d{2}/);
    expect(others.every((s) => !s.current)).toBe(true);
    expect(others.some((s) => /Safari 17 on iOS/.test(s.text) && /IP 127\.0\.0\.3/.test(s.text))).toBe(true);
    expect(page.html).toContain('Sign out of all other sessions');
    // Each "Sign out" is a POST form with the CSRF token.
    expect(page.html.match(/action="\/account\/security\/sessions\/sign-out"/g)).toHaveLength(3);
  });

  it('signs out another session remotely; its cookie stops working at once', async () => {
    const user = await signUpUser(t.baseUrl);
    const laptop = await signIn(t, user, '127.0.0.2', CHROME_WINDOWS);
    const phone = await signIn(t, user, '127.0.0.3', SAFARI_IPHONE);
    const page = await getPage(t.baseUrl, '/account/security', laptop.jar);
    const target = sessionsOf(page.html).find((s) => /Safari/.test(s.text))!;
    const res = await postForm(t.baseUrl, '/account/security/sessions/sign-out', { _csrf: csrfToken(page.html), session: target.handle }, laptop.jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/security?done=session-ended#sessions');
    expect(await me(t, phone)).toBe(401);
    expect(await me(t, laptop)).toBe(200);
    const after = await getPage(t.baseUrl, '/account/security?done=session-ended', laptop.jar);
    expect(after.html).toContain('That session was signed out.');
    expect(sessionsOf(after.html).map((s) => s.handle)).not.toContain(target.handle);
    // Signing out the same session again: it is gone.
    const again = await postForm(t.baseUrl, '/account/security/sessions/sign-out', { _csrf: csrfToken(after.html), session: target.handle }, laptop.jar);
    expect(again.status).toBe(404);
  });

  it('signing out this session from the list ends this browser', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const mine = sessionsOf(page.html).find((s) => s.current)!;
    const res = await postForm(t.baseUrl, '/account/security/sessions/sign-out', { _csrf: csrfToken(page.html), session: mine.handle }, user.jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
  });

  it('"Sign out of all other sessions" keeps only this one', async () => {
    const user = await signUpUser(t.baseUrl);
    const devices = [await signIn(t, user, '127.0.0.2', FIREFOX_LINUX), await signIn(t, user, '127.0.0.3', SAFARI_IPHONE), await signIn(t, user, '127.0.0.4', CHROME_WINDOWS)];
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const res = await postForm(t.baseUrl, '/account/security/sessions/sign-out-others', { _csrf: csrfToken(page.html) }, user.jar);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/security?done=others-ended#sessions');
    for (const device of devices) expect(await me(t, device)).toBe(401);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(200);
    const after = await getPage(t.baseUrl, '/account/security', user.jar);
    expect(sessionsOf(after.html)).toHaveLength(1);
    expect(after.html).toContain('No other sessions.');
    // The index holds exactly the live session.
    expect(await redis.scard(`sess-of:{user:${(await t.app.get(SessionService).get(user.sessionId, 'user'))!.subjectId}}`)).toBe(1);
  });

  it('cannot sign out a session of another account, and refuses bad input and missing CSRF, ending nothing', async () => {
    const victim = await signUpUser(t.baseUrl);
    const attacker = await signUpUser(t.baseUrl);
    const victimPage = await getPage(t.baseUrl, '/account/security', victim.jar);
    const victimHandle = sessionsOf(victimPage.html)[0].handle;
    const page = await getPage(t.baseUrl, '/account/security', attacker.jar);
    const csrf = csrfToken(page.html);
    const foreign = await postForm(t.baseUrl, '/account/security/sessions/sign-out', { _csrf: csrf, session: victimHandle }, attacker.jar);
    expect(foreign.status).toBe(404);
    for (const session of ['', 'not-a-handle', 'A'.repeat(64), 'a'.repeat(10_000)]) {
      const res = await postForm(t.baseUrl, '/account/security/sessions/sign-out', { _csrf: csrf, session }, attacker.jar);
      expect({ session: session.slice(0, 20), status: res.status }).toEqual({ session: session.slice(0, 20), status: 400 });
    }
    const duplicated = await postForm(
      t.baseUrl,
      '/account/security/sessions/sign-out',
      [
        ['_csrf', csrf],
        ['session', victimHandle],
        ['session', victimHandle],
      ],
      attacker.jar,
    );
    expect([400, 404]).toContain(duplicated.status);
    const noCsrf = await postForm(t.baseUrl, '/account/security/sessions/sign-out-others', {}, victim.jar);
    expect(noCsrf.status).toBe(403);
    const crossSite = await postForm(t.baseUrl, '/account/security/sessions/sign-out-others', { _csrf: csrfToken(victimPage.html) }, victim.jar, {
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    // Without a session: to the login page.
    const anonymous = await postForm(t.baseUrl, '/account/security/sessions/sign-out-others', { _csrf: csrf }, new CookieJar());
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login/);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: victim.cookie } })).status).toBe(200);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: attacker.cookie } })).status).toBe(200);
  });

  it('a password change signs out the other sessions and gives this browser a new session id', async () => {
    const user = await signUpUser(t.baseUrl);
    const phone = await signIn(t, user, '127.0.0.3', SAFARI_IPHONE);
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const res = await postForm(t.baseUrl, '/account/password', { _csrf: csrfToken(page.html), current_password: user.password, new_password: 'a brand new passphrase' }, user.jar);
    expect(res.status).toBe(303);
    const renewed = user.jar.get('ls_session');
    expect(renewed).toBeDefined();
    expect(renewed).not.toBe(user.sessionId);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
    expect(await me(t, phone)).toBe(401);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.jar.header() } })).status).toBe(200);
  });

  it('records last use at most once a minute', async () => {
    const user = await signUpUser(t.baseUrl);
    const key = `sess:{${sha256Hex(user.sessionId)}}`;
    const now = Math.floor(Date.now() / 1000);
    const backdate = async (secondsAgo: number) => {
      const data = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
      await redis.set(key, JSON.stringify({ ...data, lastSeenAt: now - secondsAgo }), 'KEEPTTL');
    };
    const lastSeen = async () => (JSON.parse((await redis.get(key))!) as { lastSeenAt: number }).lastSeenAt;
    await backdate(30);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(200);
    expect(await lastSeen()).toBe(now - 30);
    await backdate(61);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(200);
    expect(await lastSeen()).toBeGreaterThanOrEqual(now);
  });

  it('ends a session whose last use is older than SESSION_IDLE_SECONDS (7 days by default)', async () => {
    const user = await signUpUser(t.baseUrl);
    const sessions = t.app.get(SessionService);
    const subjectId = (await sessions.get(user.sessionId, 'user'))!.subjectId;
    const key = `sess:{${sha256Hex(user.sessionId)}}`;
    const data = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    await redis.set(key, JSON.stringify({ ...data, lastSeenAt: Math.floor(Date.now() / 1000) - 7 * 86400 }), 'KEEPTTL');
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
    expect(await redis.exists(key)).toBe(0);
    expect(await redis.sismember(`sess-of:{user:${subjectId}}`, sha256Hex(user.sessionId))).toBe(0);
  });

  it('prunes ended sessions from the per-user index', async () => {
    const user = await signUpUser(t.baseUrl);
    const sessions = t.app.get(SessionService);
    const subjectId = (await sessions.get(user.sessionId, 'user'))!.subjectId;
    const index = `sess-of:{user:${subjectId}}`;
    for (let i = 0; i < 5; i++) await signIn(t, user, '127.0.0.2', FIREFOX_LINUX);
    expect(await redis.scard(index)).toBe(6);
    // Sessions that end on their own (expiry) leave their ids behind until the index is read or grows.
    const members = await redis.smembers(index);
    const current = (await sessions.list('user', subjectId, user.sessionId)).find((s) => s.current)!.handle;
    await redis.del(...members.filter((h) => h !== current).map((h) => `sess:{${h}}`));
    await signIn(t, user, '127.0.0.2', FIREFOX_LINUX);
    expect(await redis.scard(index)).toBe(2);
  });
});

describe('sessions: idle timeout (SESSION_IDLE_SECONDS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ SESSION_IDLE_SECONDS: '2' });
  });
  afterAll(() => t.close());

  it('ends a session unused for SESSION_IDLE_SECONDS, and drops it from the index', async () => {
    const user = await signUpUser(t.baseUrl);
    const sessions = t.app.get(SessionService);
    const redis = t.app.get<Redis>(REDIS);
    const session = await sessions.get(user.sessionId, 'user');
    expect(session).not.toBeNull();
    const index = `sess-of:{user:${session!.subjectId}}`;
    const unused = await signIn(t, user, '127.0.0.2', FIREFOX_LINUX);
    expect(await me(t, unused)).toBe(200);
    // Watched without using it (a request would count as activity and keep it alive).
    const stored = `sess:{${sha256Hex(unused.cookie.slice('ls_session='.length))}}`;
    expect(await redis.exists(stored)).toBe(1);
    await eventually(async () => (await redis.exists(stored)) === 0, 'the unused session to end');
    expect(await me(t, unused)).toBe(401);
    await eventually(async () => (await sessions.list('user', session!.subjectId)).length === 0, 'every idle session to leave the list');
    expect(await redis.scard(index)).toBe(0);
    expect((await fromAddress('127.0.0.2', t.baseUrl, '/api/account/me', { headers: { cookie: user.cookie } })).status).toBe(401);
  });
});

describe('sessions: JSON API (/api/account/sessions)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  interface SessionJson {
    id: string;
    current: boolean;
    browser: string;
    os: string;
    ip: string | null;
    createdAt: string;
    lastActiveAt: string;
  }
  const list = async (cookie: string) => {
    const res = await fetch(`${t.baseUrl}/api/account/sessions`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return ((await res.json()) as { sessions: SessionJson[] }).sessions;
  };
  const call = (cookie: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${t.baseUrl}/api/account/sessions${path}`, { method, headers: { cookie, ...headers }, body });

  it('lists, signs out one and the others', async () => {
    const user = await signUpUser(t.baseUrl);
    const laptop = await signIn(t, user, '127.0.0.2', CHROME_WINDOWS);
    const phone = await signIn(t, user, '127.0.0.3', SAFARI_IPHONE);
    const sessions = await list(laptop.cookie);
    expect(sessions).toHaveLength(3);
    expect(sessions[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      current: true,
      browser: 'Chrome 131',
      os: 'Windows',
      ip: '127.0.0.2',
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      lastActiveAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
    });
    const phoneEntry = sessions.find((s) => s.browser === 'Safari 17')!;
    expect(phoneEntry).toMatchObject({ current: false, os: 'iOS', ip: '127.0.0.3' });
    expect((await call(laptop.cookie, 'DELETE', `/${phoneEntry.id}`)).status).toBe(204);
    expect(await me(t, phone)).toBe(401);
    expect((await call(laptop.cookie, 'DELETE', `/${phoneEntry.id}`)).status).toBe(404);
    expect((await call(laptop.cookie, 'POST', '/sign-out-others')).status).toBe(204);
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).status).toBe(401);
    expect((await list(laptop.cookie)).map((s) => s.current)).toEqual([true]);
    // Deleting this session signs this client out.
    const self = await call(laptop.cookie, 'DELETE', `/${sessions[0].id}`);
    expect(self.status).toBe(204);
    expect(self.headers.getSetCookie().some((c) => /^ls_session=;/.test(c))).toBe(true);
    expect(await me(t, laptop)).toBe(401);
  });

  it("refuses another account's session, bad ids, cross-site writes and requests without a session, ending nothing", async () => {
    const victim = await signUpUser(t.baseUrl);
    const attacker = await signUpUser(t.baseUrl);
    const victimId = (await list(victim.cookie))[0].id;
    const foreign = await call(attacker.cookie, 'DELETE', `/${victimId}`);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
    const malformed = await call(attacker.cookie, 'DELETE', `/${'A'.repeat(64)}`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect((await call(attacker.cookie, 'DELETE', `/${'a'.repeat(5000)}`)).status).toBe(404);
    const crossSite = await call(victim.cookie, 'POST', '/sign-out-others', { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toEqual({ error: 'forbidden', error_description: expect.any(String) });
    const formBody = await call(victim.cookie, 'POST', '/sign-out-others', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    expect(formBody.status).toBe(403);
    const anonymous = await fetch(`${t.baseUrl}/api/account/sessions`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
    expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: victim.cookie } })).status).toBe(200);
  });
});
