import { randomBytes } from 'node:crypto';
import { CookieJar } from './forms';

export interface TestUser {
  /** `ls_session=...`, ready for a `Cookie` header. */
  cookie: string;
  /** A jar holding the session cookie (for form helpers). */
  jar: CookieJar;
  sessionId: string;
  globalId: string;
  name: string;
  email: string;
  password: string;
  region: string;
}

export interface SignUpFields {
  name: string;
  email: string;
  password: string;
  region: string;
}

/** What sign-up and `/api/account/me` answer about the signed-in user. */
export interface AccountBody {
  globalId: string;
  name: string;
  email: string;
  image?: string | null;
  region?: string;
}

/** The name of the user session cookie over plain http (tests). */
export const USER_COOKIE = 'ls_session';

export function sessionIdFrom(res: Response): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const match = new RegExp(`^${USER_COOKIE}=([^;]*)`).exec(line);
    if (match && match[1]) return match[1];
  }
  return undefined;
}

function withSession(res: Response, fields: SignUpFields, body: { globalId: string; name: string; email: string }): TestUser {
  const sessionId = sessionIdFrom(res);
  if (!sessionId) throw new Error('No session cookie in the response');
  return {
    ...fields,
    ...body,
    cookie: `${USER_COOKIE}=${sessionId}`,
    jar: new CookieJar().set(USER_COOKIE, sessionId),
    sessionId,
  };
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Signs up a fresh end user through `POST /api/account/signup`. */
export async function signUpUser(baseUrl: string, overrides: Partial<SignUpFields> = {}): Promise<TestUser> {
  const fields: SignUpFields = {
    name: 'Test User',
    email: uniqueEmail(),
    password: 'correct horse battery staple',
    region: 'Germany',
    ...overrides,
  };
  const res = await fetch(`${baseUrl}/api/account/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  return withSession(res, fields, (await res.json()) as { globalId: string; name: string; email: string });
}

/** Logs in through `POST /api/account/login`; a fresh session each time. */
export async function loginUser(baseUrl: string, email: string, password: string): Promise<TestUser> {
  const res = await fetch(`${baseUrl}/api/account/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { globalId: string; name: string; email: string };
  const user = withSession(res, { name: body.name, email, password, region: '' }, body);
  const me = (await (await fetch(`${baseUrl}/api/account/me`, { headers: { cookie: user.cookie } })).json()) as { region: string };
  return { ...user, region: me.region };
}
