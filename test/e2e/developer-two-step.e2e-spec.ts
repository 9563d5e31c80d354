import { DataSource } from 'typeorm';
import { USER_COOKIE } from '../support/accounts';
import { DEVELOPER_COOKIE, signUpDeveloper, TestDeveloper } from '../support/developer';
import { CookieJar, getPage, postForm } from '../support/forms';
import { mailsTo } from '../support/mailbox';
import { recoveryCodesIn, totp, totpSecretIn, wrongCode } from '../support/two-step';
import { startApi, TestApp } from '../support/harness';
import { countRows } from '../support/db';

function loginJson(baseUrl: string, body: unknown) {
  return fetch(`${baseUrl}/api/developer/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
const setsCookie = (res: Response, name: string) => res.headers.getSetCookie().some((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));

/** Developers get the same two-step sign-in as end users: portal pages and the JSON login. */
describe('Two-step sign-in for developers', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  const jarOf = (dev: TestDeveloper) => new CookieJar().set(DEVELOPER_COOKIE, dev.sessionId);

  async function enable(dev: TestDeveloper): Promise<{ secret: string; codes: string[] }> {
    const jar = jarOf(dev);
    const page = await getPage(t.baseUrl, '/developer/security', jar);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Set up an authenticator app');
    const wrong = await postForm(t.baseUrl, '/developer/security/two-step/setup', { _csrf: page.csrf!, password: 'not the password' }, jar);
    expect(wrong.status).toBe(400);
    const setup = await postForm(t.baseUrl, '/developer/security/two-step/setup', { _csrf: page.csrf!, password: dev.password }, jar);
    expect(setup.status).toBe(200);
    const html = await setup.text();
    expect(html).toMatch(/<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const secret = totpSecretIn(html);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    expect((await postForm(t.baseUrl, '/developer/security/two-step/confirm', { _csrf: csrf, code: wrongCode(secret) }, jar)).status).toBe(400);
    const confirmed = await postForm(t.baseUrl, '/developer/security/two-step/confirm', { _csrf: csrf, code: totp(secret) }, jar);
    expect(confirmed.status).toBe(200);
    const codes = recoveryCodesIn(await confirmed.text());
    expect(codes).toHaveLength(10);
    expect((await mailsTo(t.baseUrl, dev.email)).some((m) => m.includes('Two-step sign-in was turned on'))).toBe(true);
    return { secret, codes };
  }

  it('sets up TOTP on /developer/security; the JSON login then needs otp (mfa_required, invalid_credentials, single use)', async () => {
    const dev = await signUpDeveloper(t.baseUrl);
    const { secret, codes } = await enable(dev);
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM developer_recovery_codes WHERE developer_id = ? AND used_at IS NULL', [dev.id])).toBe(10);

    const missing = await loginJson(t.baseUrl, { email: dev.email, password: dev.password });
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toBe('mfa_required');
    expect(setsCookie(missing, DEVELOPER_COOKIE)).toBe(false);
    const wrong = await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: wrongCode(secret) });
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toBe('invalid_credentials');
    const bad = await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: 123456 });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toBe('invalid_request');

    const code = totp(secret, 1);
    const ok = await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: code });
    expect(ok.status).toBe(200);
    expect(setsCookie(ok, DEVELOPER_COOKIE)).toBe(true);
    expect((await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: code })).status).toBe(401);
    expect((await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: codes[0] })).status).toBe(200);
    expect((await loginJson(t.baseUrl, { email: dev.email, password: dev.password, otp: codes[0] })).status).toBe(401);
  });

  it('the portal login asks for the code on /developer/login/two-step; an end user second step cannot finish it', async () => {
    const dev = await signUpDeveloper(t.baseUrl);
    const { secret, codes } = await enable(dev);
    const jar = new CookieJar();
    const login = await getPage(t.baseUrl, '/developer/login', jar);
    const step1 = await postForm(t.baseUrl, '/developer/login', { _csrf: login.csrf!, email: dev.email, password: dev.password }, jar);
    expect(step1.status).toBe(303);
    expect(step1.headers.get('location')).toBe('/developer/login/two-step');
    expect(jar.get(DEVELOPER_COOKIE)).toBeUndefined();

    // The same pending cookie at the end users' second step: not theirs.
    const userStep = await getPage(t.baseUrl, '/login/two-step', jar);
    expect(userStep.res.status).toBe(303);
    expect(userStep.res.headers.get('location')).toBe('/login');
    const userPost = await postForm(t.baseUrl, '/login/two-step', { _csrf: login.csrf!, code: codes[0] }, jar);
    expect(userPost.status).toBe(303);
    expect(jar.get(USER_COOKIE)).toBeUndefined();

    const form = await getPage(t.baseUrl, '/developer/login/two-step', jar);
    expect(form.res.status).toBe(200);
    const wrong = await postForm(t.baseUrl, '/developer/login/two-step', { _csrf: form.csrf!, code: wrongCode(secret) }, jar);
    expect(wrong.status).toBe(401);
    expect(jar.get(DEVELOPER_COOKIE)).toBeUndefined();
    const ok = await postForm(t.baseUrl, '/developer/login/two-step', { _csrf: form.csrf!, code: codes[0] }, jar);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/developer/apps');
    expect(jar.get(DEVELOPER_COOKIE)).toBeDefined();
    const me = await fetch(`${t.baseUrl}/api/developer/me`, { headers: { cookie: jar.header() } });
    expect(me.status).toBe(200);
  });

  it('turning it off needs the password and a code', async () => {
    const dev = await signUpDeveloper(t.baseUrl);
    const { codes } = await enable(dev);
    const jar = jarOf(dev);
    const submit = async (fields: Record<string, string>) => {
      const page = await getPage(t.baseUrl, '/developer/security', jar);
      expect(page.html).toContain('Turn off two-step sign-in');
      return postForm(t.baseUrl, '/developer/security/two-step/disable', { _csrf: page.csrf!, ...fields }, jar);
    };
    expect((await submit({ password: 'wrong password!', code: codes[1] })).status).toBe(400);
    expect((await submit({ password: dev.password, code: 'nope' })).status).toBe(400);
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM developer_totp WHERE developer_id = ?', [dev.id])).toBe(1);
    const off = await submit({ password: dev.password, code: codes[1] });
    expect(off.status).toBe(303);
    expect(off.headers.get('location')).toBe('/developer/security?done=two-step-off');
    expect(await countRows(db(), 'SELECT COUNT(*) AS n FROM developer_totp WHERE developer_id = ?', [dev.id])).toBe(0);
    expect((await loginJson(t.baseUrl, { email: dev.email, password: dev.password })).status).toBe(200);
    expect((await mailsTo(t.baseUrl, dev.email)).some((m) => m.includes('Two-step sign-in was turned off'))).toBe(true);
  });
});
