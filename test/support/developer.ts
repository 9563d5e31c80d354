import type { DeveloperUserView } from '@app/connections';
import { randomBytes } from 'node:crypto';

/** The developer session cookie's name over plain http (tests). */
export const DEVELOPER_COOKIE = 'ls_dev';

export interface TestDeveloper {
  /** `ls_dev=...`, ready for a `Cookie` header. */
  cookie: string;
  sessionId: string;
  id: number;
  name: string;
  email: string;
  password: string;
}

/** What `POST /api/developer/applications` returns (the only time the secrets are shown). */
export interface CreatedTestApplication {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  webhookUrl: string | null;
  webhookSecret: string;
  logoUrl: string | null;
  createdAt: string;
}

export function developerSessionFrom(res: Response): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const match = new RegExp(`^${DEVELOPER_COOKIE}=([^;]+)`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

export function uniqueDeveloperEmail(prefix = 'dev'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

/**
 * A JSON request to the portal API as a signed-in developer (`cookie` may be
 * undefined for anonymous calls). `body` is JSON-encoded unless it is a string.
 */
export function developerRequest(baseUrl: string, cookie: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(cookie ? { cookie } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Signs up a fresh developer through `POST /api/developer/signup`. */
export async function signUpDeveloper(baseUrl: string, overrides: Partial<Pick<TestDeveloper, 'name' | 'email' | 'password'>> = {}): Promise<TestDeveloper> {
  const fields = { name: 'Test Developer', email: uniqueDeveloperEmail(), password: 'developer password 1', ...overrides };
  const res = await developerRequest(baseUrl, undefined, 'POST', '/api/developer/signup', fields);
  if (res.status !== 201) throw new Error(`developer signup failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id: number; name: string; email: string };
  const sessionId = developerSessionFrom(res);
  if (!sessionId) throw new Error('No developer session cookie in the signup response');
  return { ...fields, ...body, sessionId, cookie: `${DEVELOPER_COOKIE}=${sessionId}` };
}

/** Creates an application for the developer behind `cookie`; defaults give a valid app. */
export async function createApplication(
  baseUrl: string,
  cookie: string,
  body: Partial<{ name: string; redirectUris: string[]; webhookUrl: string | null; logoUrl: string | null }> = {},
): Promise<CreatedTestApplication> {
  const payload = { name: 'Test App', redirectUris: ['https://app.example.com/callback'], ...body };
  const res = await developerRequest(baseUrl, cookie, 'POST', '/api/developer/applications', payload);
  if (res.status !== 201) throw new Error(`create application failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedTestApplication;
}

/** One user in `GET /api/developer/applications/:id/users`. */
export type PortalUser = DeveloperUserView;

/** A page of `GET /api/developer/applications/:id/users` (or the error shape). */
export interface UsersPage {
  users: PortalUser[];
  total: number;
  /** Present when a search matched more users than are counted exactly (`total` is then the limit). */
  totalIsLowerBound?: true;
  nextCursor: string | null;
  error?: string;
  error_description?: string;
}

/** `GET /api/developer/applications`: the developer's applications, without secrets. */
export interface ApplicationList {
  applications: Omit<CreatedTestApplication, 'clientSecret' | 'webhookSecret'>[];
}

/** A JSON object as an API answers it; tests check its fields by name. */
export type JsonObject = Record<string, unknown>;

/** A response's JSON body, as `T` (a plain object unless the caller names its shape). */
export async function readJson<T = JsonObject>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
