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

/**
 * Confirms the user's sign-up address as its owner does: the link mailed at
 * sign-up (read from /dev/mailbox, so not with SMTP_URL), followed with the
 * user's own session. Waits (bounded) for the mail.
 */
export async function confirmSignUpAddress(baseUrl: string, user: TestUser): Promise<void> {
  const deadline = Date.now() + 10_000;
  let path: string | undefined;
  while (!path) {
    const html = await (await fetch(`${baseUrl}/dev/mailbox`)).text();
    const article = html.split('<article').find((a) => a.includes(`<strong>${user.email}</strong>`) && a.includes('/account/emails/verify?token='));
    const href = article ? /href="[^"]*(\/account\/emails\/verify\?token=[A-Za-z0-9_-]+)"/.exec(article)?.[1] : undefined;
    if (href) path = href;
    else if (Date.now() > deadline) throw new Error(`no confirmation mail to ${user.email}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  const page = await fetch(`${baseUrl}${path}`, { headers: { cookie: user.jar.header() } });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`confirmation page: ${page.status}`);
  const csrf = /name="_csrf" value="([^"]*)"/.exec(html)?.[1];
  const token = /name="token" value="([^"]*)"/.exec(html)?.[1];
  const setCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]);
  const res = await fetch(`${baseUrl}/account/emails/verify`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [user.jar.header(), ...setCookie].filter(Boolean).join('; ') },
    body: new URLSearchParams({ _csrf: csrf ?? '', token: token ?? '' }).toString(),
  });
  if (res.status !== 303) throw new Error(`confirmation: ${res.status} ${await res.text()}`);
}
