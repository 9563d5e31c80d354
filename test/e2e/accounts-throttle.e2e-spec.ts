import { expect } from '@jest/globals';
import { startApi, TestApp } from '../support/harness';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { CookieJar, submitForm } from '../support/forms';
import { ErrorBody } from '../support/oauth';

const login = (t: TestApp, email: string, password: string) =>
  fetch(`${t.baseUrl}/api/account/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

describe('accounts: login throttling per account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
  });
  afterAll(() => t.close());

  it('answers the 4th attempt with 429 rate_limited, even with the right password', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 0; i < 3; i++) expect((await login(t, user.email, 'wrong password')).status).toBe(401);
    const blocked = await login(t, user.email, user.password);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await blocked.json()).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
    expect(blocked.headers.getSetCookie().some((c) => c.startsWith('ls_session='))).toBe(false);
    // The email's case does not open a new window.
    expect((await login(t, user.email.toUpperCase(), user.password)).status).toBe(429);
    // The HTML form is throttled too, and says so.
    const form = await submitForm(t.baseUrl, '/login', { email: user.email, password: user.password }, new CookieJar());
    expect(form.status).toBe(429);
    expect(await form.text()).toMatch(/Too many failed sign-in attempts/);
    // Other accounts are not affected.
    const other = await signUpUser(t.baseUrl);
    expect((await login(t, other.email, other.password)).status).toBe(200);
  });

  it('throttles unknown emails the same way', async () => {
    const email = uniqueEmail('ghost');
    for (let i = 0; i < 3; i++) expect((await login(t, email, 'whatever1')).status).toBe(401);
    expect((await login(t, email, 'whatever1')).status).toBe(429);
  });

  it('clears the account window after a successful login', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 0; i < 2; i++) expect((await login(t, user.email, 'wrong password')).status).toBe(401);
    expect((await login(t, user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await login(t, user.email, 'wrong password')).status).toBe(401);
    expect((await login(t, user.email, user.password)).status).toBe(200);
  });
});

describe('accounts: login throttling per IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_IP: '4' });
  });
  afterAll(() => t.close());

  it('refuses every login from an IP after too many failures across accounts', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 0; i < 4; i++) expect((await login(t, uniqueEmail('spray'), 'password123')).status).toBe(401);
    const res = await login(t, user.email, user.password);
    expect(res.status).toBe(429);
    expect(((await res.json()) as ErrorBody).error).toBe('rate_limited');
  });
});

describe('accounts: the throttle is a sliding window, not a lockout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_WINDOW_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('lets the owner in again once old failures age out', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 0; i < 2; i++) expect((await login(t, user.email, 'wrong password')).status).toBe(401);
    expect((await login(t, user.email, user.password)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await login(t, user.email, user.password)).status).toBe(200);
  });
});
