import { expect } from '@jest/globals';
import { startApi, TestApp } from '../support/harness';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { signUpDeveloper, uniqueDeveloperEmail } from '../support/developer';
import { CookieJar, getPage, postForm, submitForm } from '../support/forms';

const postJson = (t: TestApp, path: string, body: unknown) =>
  fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const COMMON = ['password1', 'Password1', 'iloveyou123', 'qwertyuiop'];
const STRONG = 'correct horse battery staple';

describe('password policy: 8 to 128 characters, not a common password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('user sign-up (JSON) refuses a common password with 400 invalid_request saying why, and writes nothing', async () => {
    for (const password of COMMON) {
      const email = uniqueEmail('common');
      const res = await postJson(t, '/api/account/signup', { name: 'Common', email, password, region: 'Spain' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/password is one of the most common passwords/) });
      // Nothing was written: the address is still free.
      expect((await postJson(t, '/api/account/signup', { name: 'Common', email, password: STRONG, region: 'Spain' })).status).toBe(201);
    }
  });

  it('user sign-up refuses 7 and 129 characters, wrong types and huge values, and accepts 128', async () => {
    const cases: [unknown, RegExp][] = [
      ['zq8#Lm2', /8 to 128 characters/],
      ['zq8#Lm2!'.repeat(16) + 'x', /8 to 128 characters/],
      ['x'.repeat(100_000), /password/],
      [12345678, /password/],
      [null, /password/],
      [['a long password'], /password/],
    ];
    for (const [password, message] of cases) {
      const res = await postJson(t, '/api/account/signup', { name: 'Bad', email: uniqueEmail('bad'), password, region: 'Spain' });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(message) });
    }
    expect((await postJson(t, '/api/account/signup', { name: 'Long', email: uniqueEmail('long'), password: 'zq8#Lm2!'.repeat(16), region: 'Spain' })).status).toBe(201);
  });

  it('the sign-up page re-renders with the reason', async () => {
    const res = await submitForm(t.baseUrl, '/signup', { name: 'Page', email: uniqueEmail('page'), password: 'Password1', region: 'Spain' }, new CookieJar());
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/one of the most common passwords/);
    expect(html).not.toContain('Password1');
  });

  it('developer sign-up (JSON and page) applies the same policy', async () => {
    const email = uniqueDeveloperEmail('common');
    const res = await postJson(t, '/api/developer/signup', { name: 'Dev', email, password: 'iloveyou123' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/most common passwords/) });
    const long = await postJson(t, '/api/developer/signup', { name: 'Dev', email, password: 'y'.repeat(129) });
    expect(long.status).toBe(400);
    expect(await long.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/8 to 128 characters/) });
    const page = await submitForm(t.baseUrl, '/developer/signup', { name: 'Dev', email, password: 'qwertyuiop' }, new CookieJar());
    expect(page.status).toBe(400);
    expect(await page.text()).toMatch(/most common passwords/);
    // Nothing was written.
    expect((await signUpDeveloper(t.baseUrl, { email })).email).toBe(email);
  });

  it('password change refuses a common new password and keeps the old one', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const res = await postForm(t.baseUrl, '/account/password', { _csrf: page.csrf!, current_password: user.password, new_password: 'Password1' }, user.jar);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/New password is one of the most common passwords/);
    const login = (password: string) => postJson(t, '/api/account/login', { email: user.email, password });
    expect((await login('Password1')).status).toBe(401);
    expect((await login(user.password)).status).toBe(200);
  });

  it('login still accepts any existing password (the policy applies when a password is chosen)', async () => {
    const res = await postJson(t, '/api/account/login', { email: uniqueEmail('nobody'), password: 'password1' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_credentials', error_description: expect.any(String) });
  });
});
