import { randomBytes } from 'node:crypto';
import { s256 } from '@app/oauth';
import { getPage, inputValue, postForm } from './forms';
import { signUpUser, TestUser } from './accounts';

export interface ClientApp {
  id: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  developerCookie: string;
}

/** The error shape every failed call answers. */
export interface ErrorBody {
  error?: string;
  error_description?: string;
}

/** What `POST /oauth/token` answers: the token fields on success, the error shape otherwise. */
export interface TokenBody extends ErrorBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** What `GET /api/user` answers: the profile on success, the error shape otherwise. */
export interface UserBody extends ErrorBody {
  id: string;
  globalId: string;
  name: string;
  email: string | null;
  image: string | null;
}

/** A developer account and one application registered through the portal's JSON API. */
export async function createClientApp(baseUrl: string, redirectUris = ['https://client.example/cb']): Promise<ClientApp> {
  const email = `dev-${randomBytes(5).toString('hex')}@example.com`;
  const signup = await fetch(`${baseUrl}/api/developer/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Dev', email, password: 'developer-password-1' }),
  });
  if (signup.status !== 201) throw new Error(`developer signup: ${signup.status} ${await signup.text()}`);
  const developerCookie = signup.headers.getSetCookie()[0].split(';')[0];
  const created = await fetch(`${baseUrl}/api/developer/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: developerCookie },
    body: JSON.stringify({ name: 'Client <App>', redirectUris }),
  });
  if (created.status !== 201) throw new Error(`create app: ${created.status} ${await created.text()}`);
  const app = (await created.json()) as { id: string; clientId: string; clientSecret: string };
  return { id: app.id, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: redirectUris[0], developerCookie };
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

export function authorizePath(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.append(k, v);
  return `/oauth/authorize?${query.toString()}`;
}

/** Parameters of a 303 Location on the client's redirect URI. */
export function callbackParams(res: Response): URLSearchParams {
  const location = res.headers.get('location');
  if (!location) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(location).searchParams;
}

/** `relay`, `none`, or one of the user's addresses. */
export type ShareChoice = string;

/**
 * Runs GET /oauth/authorize as the user's browser would; answers the consent
 * page (when shown) with `share` and `decision`. Returns the final redirect.
 */
export async function authorizeAs(
  baseUrl: string,
  user: TestUser,
  params: Record<string, string | undefined>,
  consent: { share?: ShareChoice; decision?: 'allow' | 'deny' } = {},
): Promise<{ res: Response; consentShown: boolean }> {
  const page = await getPage(baseUrl, authorizePath(params), user.jar);
  if (page.res.status !== 200) return { res: page.res, consentShown: false };
  const fields: Record<string, string> = { _csrf: page.csrf!, share: consent.share ?? 'relay', decision: consent.decision ?? 'allow' };
  for (const name of ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce']) {
    const value = inputValue(page.html, name);
    if (value !== undefined) fields[name] = value;
  }
  const res = await postForm(baseUrl, '/oauth/authorize/decision', fields, user.jar);
  return { res, consentShown: true };
}

export async function exchangeCode(baseUrl: string, app: ClientApp, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: app.redirectUri, ...fields }),
  });
  return { res, body: (await res.json()) as TokenBody };
}

/** A code for a fresh user (consent with `share`), with PKCE. */
export async function codeFor(baseUrl: string, app: ClientApp, user?: TestUser, share: ShareChoice = 'relay') {
  const who = user ?? (await signUpUser(baseUrl));
  const pkce = pkcePair();
  const state = randomBytes(8).toString('hex');
  const { res } = await authorizeAs(
    baseUrl,
    who,
    { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state, code_challenge: pkce.challenge, code_challenge_method: 'S256' },
    { share },
  );
  const params = callbackParams(res);
  if (params.get('state') !== state) throw new Error('state not echoed');
  return { code: params.get('code')!, verifier: pkce.verifier, user: who };
}

/** Consent (with `share`), code and token exchange with PKCE and `offline_access`: the tokens of a new connection. */
export async function connectWithRefresh(baseUrl: string, app: ClientApp, user: TestUser, share: ShareChoice = 'relay') {
  const pkce = pkcePair();
  const { res, consentShown } = await authorizeAs(
    baseUrl,
    user,
    {
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      state: 'st',
      scope: 'openid profile email offline_access',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    },
    { share },
  );
  const code = callbackParams(res).get('code');
  if (!code) throw new Error(`no code: ${res.headers.get('location')}`);
  const { body } = await exchangeCode(baseUrl, app, { code, code_verifier: pkce.verifier });
  return { body, consentShown };
}

export async function currentUser(baseUrl: string, accessToken: string) {
  const res = await fetch(`${baseUrl}/api/user`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { res, body: (await res.json()) as UserBody };
}
