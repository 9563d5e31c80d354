import { expect } from '@jest/globals';
import { startApi, TestApp } from '../support/harness';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { signUpDeveloper, uniqueDeveloperEmail } from '../support/developer';
import { CookieJar, submitForm } from '../support/forms';
import { AddressedResponse, postJsonFrom } from '../support/from-address';

const ATTACKER = '127.0.0.2';
const OWNER = '127.0.0.3';

const userLogin = (t: TestApp, from: string, email: string, password: string, headers: Record<string, string> = {}) =>
  postJsonFrom(from, t.baseUrl, '/api/account/login', { email, password }, headers);
const developerLogin = (t: TestApp, from: string, email: string, password: string) => postJsonFrom(from, t.baseUrl, '/api/developer/login', { email, password });

/** 429 `rate_limited` with a Retry-After within the limit's window (900 s for logins, an hour for sign-ups). */
function expectRateLimited(res: AddressedResponse, windowSeconds = 900) {
  expect(res.status).toBe(429);
  expect(String(res.headers['retry-after'])).toMatch(/^[1-9]\d*$/);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(windowSeconds);
  expect(JSON.parse(res.text)).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
  expect(res.cookies.some((c) => c.startsWith('ls_session=') || c.startsWith('ls_dev='))).toBe(false);
}

describe('login limits with the contract defaults (10 per account and IP, 50 per IP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('an attacker failing 10 times from one IP does not stop the owner from another IP', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 1; i <= 10; i++) expect({ attempt: i, status: (await userLogin(t, ATTACKER, user.email, `wrong password ${i}`)).status }).toEqual({ attempt: i, status: 401 });
    // The 11th attempt from that IP is refused whatever the password, the right one included.
    expectRateLimited(await userLogin(t, ATTACKER, user.email, 'wrong password 11'));
    expectRateLimited(await userLogin(t, ATTACKER, user.email, user.password));
    // Another spelling of the address names the same account.
    expectRateLimited(await userLogin(t, ATTACKER, user.email.toUpperCase(), user.password));
    // The owner, from another IP, signs in.
    const owner = await userLogin(t, OWNER, user.email, user.password);
    expect(owner.status).toBe(200);
    expect(owner.cookies.some((c) => c.startsWith('ls_session='))).toBe(true);
    // The attacker's window stays full.
    expectRateLimited(await userLogin(t, ATTACKER, user.email, user.password));
  });

  it('X-Forwarded-For is ignored by default: a forged header neither opens a new window nor blames another IP', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 1; i <= 10; i++) {
      expect((await userLogin(t, '127.0.0.4', user.email, 'wrong password', { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401);
    }
    expectRateLimited(await userLogin(t, '127.0.0.4', user.email, user.password, { 'x-forwarded-for': '198.51.100.99' }));
    // Forging the owner's address as the "client" does not hurt the owner either.
    expect((await userLogin(t, '127.0.0.5', user.email, user.password, { 'x-forwarded-for': '127.0.0.4' })).status).toBe(200);
  });

  it('refuses every login from an IP after 50 failures across accounts, and only from that IP', async () => {
    const user = await signUpUser(t.baseUrl);
    const spray = '127.0.0.6';
    for (let i = 1; i <= 50; i++) expect({ attempt: i, status: (await userLogin(t, spray, uniqueEmail('spray'), 'some password')).status }).toEqual({ attempt: i, status: 401 });
    expectRateLimited(await userLogin(t, spray, user.email, user.password));
    expect((await userLogin(t, '127.0.0.7', user.email, user.password)).status).toBe(200);
  });

  it('developers: 10 failures for one account from one IP, then 429 there and a normal login elsewhere', async () => {
    const developer = await signUpDeveloper(t.baseUrl);
    for (let i = 1; i <= 10; i++) expect((await developerLogin(t, '127.0.0.8', developer.email, `wrong password ${i}`)).status).toBe(401);
    expectRateLimited(await developerLogin(t, '127.0.0.8', developer.email, developer.password));
    const owner = await developerLogin(t, '127.0.0.9', developer.email, developer.password);
    expect(owner.status).toBe(200);
    expect(owner.cookies.some((c) => c.startsWith('ls_dev='))).toBe(true);
  });

  it('a success clears only the (account, IP) window it came from', async () => {
    const user = await signUpUser(t.baseUrl);
    for (let i = 0; i < 9; i++) expect((await userLogin(t, '127.0.0.10', user.email, 'wrong password')).status).toBe(401);
    expect((await userLogin(t, '127.0.0.10', user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await userLogin(t, '127.0.0.10', user.email, 'wrong password')).status).toBe(401);
    expectRateLimited(await userLogin(t, '127.0.0.10', user.email, user.password));
  });
});

describe('TRUST_PROXY and RATE_LIMIT_ALLOWLIST', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The proxy is any loopback address; 127.0.0.20 is a trusted office network exempt from per-IP counters.
    t = await startApi({ TRUST_PROXY: '127.0.0.0/8', RATE_LIMIT_ALLOWLIST: '203.0.113.0/24', LOGIN_MAX_FAILURES_PER_IP: '3' });
  });
  afterAll(() => t.close());

  it('honours X-Forwarded-For from a trusted proxy: the client behind it is the IP that counts', async () => {
    const user = await signUpUser(t.baseUrl);
    // Two clients behind the same proxy (the same socket address).
    for (let i = 0; i < 3; i++) expect((await userLogin(t, '127.0.0.2', user.email, 'wrong password', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(401);
    expectRateLimited(await userLogin(t, '127.0.0.2', user.email, user.password, { 'x-forwarded-for': '198.51.100.1' }));
    expect((await userLogin(t, '127.0.0.2', user.email, user.password, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
  });

  it('exempts allowlisted IPs from the per-IP counter, never from the per-(account, IP) limit', async () => {
    const user = await signUpUser(t.baseUrl);
    const office = { 'x-forwarded-for': '203.0.113.5' };
    for (let i = 0; i < 6; i++) expect((await userLogin(t, '127.0.0.2', uniqueEmail('office'), 'some password', office)).status).toBe(401);
    expect((await userLogin(t, '127.0.0.2', user.email, user.password, office)).status).toBe(200);
    // Per (account, IP): the contract's 10 still applies to the allowlisted IP.
    for (let i = 0; i < 10; i++) expect((await userLogin(t, '127.0.0.2', user.email, 'wrong password', office)).status).toBe(401);
    expectRateLimited(await userLogin(t, '127.0.0.2', user.email, user.password, office));
  });
});

describe('TRUST_PROXY as a hop count', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_IP: '3' });
  });
  afterAll(() => t.close());

  it('believes the nearest X-Forwarded-For entry only: the entries a client writes itself further left do not count', async () => {
    const user = await signUpUser(t.baseUrl);
    const via = (client: string, spoofed: string) => ({ 'x-forwarded-for': `${spoofed}, ${client}` });
    for (let i = 0; i < 3; i++) expect((await userLogin(t, '127.0.0.2', user.email, 'wrong password', via('198.51.100.1', `192.0.2.${i}`))).status).toBe(401);
    // A fresh left-hand entry does not make the same client a new one.
    expectRateLimited(await userLogin(t, '127.0.0.2', user.email, user.password, via('198.51.100.1', '192.0.2.99')));
    // Another client behind the same proxy is not held back.
    expect((await userLogin(t, '127.0.0.2', user.email, user.password, via('198.51.100.2', '198.51.100.1'))).status).toBe(200);
  });
});

describe('sign-up limits per IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ SIGNUP_LIMIT_PER_IP_PER_HOUR: '3', DEVELOPER_SIGNUP_LIMIT_PER_IP_PER_HOUR: '2', RATE_LIMIT_ALLOWLIST: '127.0.0.30' });
  });
  afterAll(() => t.close());

  const userSignUp = (from: string, email = uniqueEmail('limit')) =>
    postJsonFrom(from, t.baseUrl, '/api/account/signup', { name: 'Limited', email, password: 'correct horse battery staple', region: 'Germany' });
  const developerSignUp = (from: string, email = uniqueDeveloperEmail('limit')) =>
    postJsonFrom(from, t.baseUrl, '/api/developer/signup', { name: 'Limited Dev', email, password: 'correct horse battery staple' });

  it('answers 429 beyond the hourly user sign-ups of an IP, writes nothing, and leaves other IPs alone', async () => {
    for (let i = 0; i < 3; i++) expect((await userSignUp('127.0.0.2')).status).toBe(201);
    const email = uniqueEmail('refused');
    expectRateLimited(await userSignUp('127.0.0.2', email), 3600);
    // Nothing was written: the address is free for a sign-up from elsewhere.
    expect((await userSignUp('127.0.0.3', email)).status).toBe(201);
    // The page answers 429 too (this client is 127.0.0.1: fill its window first).
    for (let i = 0; i < 3; i++) await signUpUser(t.baseUrl);
    const form = await submitForm(t.baseUrl, '/signup', { name: 'Page', email: uniqueEmail('page'), password: 'correct horse battery staple', region: 'Spain' }, new CookieJar());
    expect(form.status).toBe(429);
    expect(form.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await form.text()).toMatch(/Too many sign-ups/);
    // Allowlisted IPs are not counted.
    for (let i = 0; i < 5; i++) expect((await userSignUp('127.0.0.30')).status).toBe(201);
  });

  it('invalid sign-ups are refused before they count', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await postJsonFrom('127.0.0.4', t.baseUrl, '/api/account/signup', { name: 'X', email: uniqueEmail(), password: 'password1', region: 'Spain' });
      expect(res.status).toBe(400);
    }
    expect((await userSignUp('127.0.0.4')).status).toBe(201);
  });

  it('limits developer sign-ups per IP separately from user sign-ups', async () => {
    for (let i = 0; i < 2; i++) expect((await developerSignUp('127.0.0.5')).status).toBe(201);
    const email = uniqueDeveloperEmail('refused');
    expectRateLimited(await developerSignUp('127.0.0.5', email), 3600);
    expect((await developerSignUp('127.0.0.6', email)).status).toBe(201);
    // The developer window did not touch the user window of the same IP.
    expect((await userSignUp('127.0.0.5')).status).toBe(201);
  });
});
