// Plain-HTTP helpers for bench setup: a developer with one application, end users with a session.
import { randomBytes } from 'node:crypto';

export interface BenchApp {
  id: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  redirectUri: string;
  developerCookie: string;
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${(await res.text()).slice(0, 500)}`);
}

/** Cookie `name=value` from a response's Set-Cookie headers. */
export function setCookie(res: Response, name: string): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (m && m[1]) return `${name}=${m[1]}`;
  }
  return undefined;
}

/** A developer account (portal JSON API) and one application with `redirectUri`. */
export async function createDeveloperApp(baseUrl: string, redirectUri: string): Promise<BenchApp> {
  const signup = await fetch(`${baseUrl}/api/developer/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench Developer', email: `bench-dev-${randomBytes(5).toString('hex')}@example.com`, password: 'bench-developer-password-1' }),
  });
  await expectStatus(signup, 201, 'developer signup');
  const developerCookie = setCookie(signup, 'ls_dev');
  if (!developerCookie) throw new Error('developer signup: no ls_dev cookie');
  const created = await fetch(`${baseUrl}/api/developer/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: developerCookie },
    body: JSON.stringify({ name: 'Bench App', redirectUris: [redirectUri] }),
  });
  await expectStatus(created, 201, 'create application');
  const app = (await created.json()) as { id: string; clientId: string; clientSecret: string; webhookSecret: string };
  return { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, webhookSecret: app.webhookSecret, redirectUri, developerCookie };
}

export interface BenchUser {
  email: string;
  /** `ls_session=...` */
  cookie: string;
}

/** An end user through `POST /api/account/signup` (signed in: the response sets the session cookie). */
export async function signUpUser(baseUrl: string, n: number): Promise<BenchUser> {
  const email = `bench-user-${n}-${randomBytes(4).toString('hex')}@example.com`;
  const res = await fetch(`${baseUrl}/api/account/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Bench User ${n}`, email, password: 'correct horse battery staple', region: 'Germany' }),
  });
  await expectStatus(res, 201, 'user signup');
  const cookie = setCookie(res, 'ls_session');
  if (!cookie) throw new Error('user signup: no ls_session cookie');
  await res.arrayBuffer();
  return { email, cookie };
}

/** A new session for an existing user (`POST /api/account/login`), e.g. on an API backed by another Redis. */
export async function logIn(baseUrl: string, email: string): Promise<BenchUser> {
  const res = await fetch(`${baseUrl}/api/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery staple' }),
  });
  await expectStatus(res, 200, 'user login');
  const cookie = setCookie(res, 'ls_session');
  if (!cookie) throw new Error('user login: no ls_session cookie');
  await res.arrayBuffer();
  return { email, cookie };
}
