#!/usr/bin/env node
// "Sign in with LoginSign": a complete OAuth 2.0 client in one file.
//
// Plain Node.js (node:http) plus oauth4webapi, a certified OAuth client library:
// authorization code flow with PKCE (S256) and `state`, client authentication
// with client_secret_basic, then GET /api/user with the access token.
//
//   npm run example            (from the repository root, after `npm start`)
//
// Configuration (environment):
//   LOGINSIGN_URL  LoginSign's origin                    (default http://localhost:3000)
//   CLIENT_ID      your application's client_id          (default: from .data/demo.json)
//   CLIENT_SECRET  your application's client secret      (default: from .data/demo.json)
//   PORT           port this app listens on              (default 4000)
//   HOST           interface this app listens on         (default 127.0.0.1)
//   REDIRECT_URI   registered redirect URI of your app   (default http://127.0.0.1:<PORT>/callback)
//   RELAY_DOMAIN   domain of private relay addresses     (default loginsign.com; only for the label)
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';

// ---------------------------------------------------------------- configuration

const LOGINSIGN_URL = URL.canParse(process.env.LOGINSIGN_URL || 'http://localhost:3000')
  ? new URL(process.env.LOGINSIGN_URL || 'http://localhost:3000')
  : fail(`LOGINSIGN_URL is not a URL: ${process.env.LOGINSIGN_URL}`);
const PORT = Number(process.env.PORT || 4000);
const HOST = process.env.HOST || '127.0.0.1';
const REDIRECT_URI = process.env.REDIRECT_URI || `http://127.0.0.1:${PORT}/callback`;
const RELAY_DOMAIN = (process.env.RELAY_DOMAIN || 'loginsign.com').toLowerCase();
const SCOPE = 'profile email';
const DEMO_FILE = fileURLToPath(new URL('../../.data/demo.json', import.meta.url));

/** CLIENT_ID / CLIENT_SECRET, or the demo application that `npm start` registered. */
function loadCredentials() {
  if (process.env.CLIENT_ID || process.env.CLIENT_SECRET) {
    if (!process.env.CLIENT_ID || !process.env.CLIENT_SECRET) fail('Set both CLIENT_ID and CLIENT_SECRET.');
    return { clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET, source: 'the environment' };
  }
  const demo = readDemoCredentials();
  if (demo) return demo;
  fail(
    'No client credentials. Run `npm start` first (it registers the "Demo Client" application and keeps its credentials in .data/demo.json), or set CLIENT_ID and CLIENT_SECRET.',
  );
}

function readDemoCredentials() {
  try {
    const app = existsSync(DEMO_FILE) ? JSON.parse(readFileSync(DEMO_FILE, 'utf8')).app : undefined;
    if (app?.clientId && app?.clientSecret) return { clientId: app.clientId, clientSecret: app.clientSecret, source: '.data/demo.json' };
  } catch {
    // unreadable or half-written: treated as missing
  }
  return null;
}

function fail(message) {
  console.error(`example: ${message}`);
  process.exit(1);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
// oauth4webapi refuses plain http; allow it only for a LoginSign on this machine.
const insecureLoopback = LOGINSIGN_URL.protocol === 'http:' && LOOPBACK.has(LOGINSIGN_URL.hostname);
if (LOGINSIGN_URL.protocol !== 'https:' && !insecureLoopback) fail('LOGINSIGN_URL must use https (http is accepted only for 127.0.0.1 and localhost).');
const httpOptions = insecureLoopback ? { [oauth.allowInsecureRequests]: true } : {};

const base = LOGINSIGN_URL.href.replace(/\/+$/, '');
const credentials = loadCredentials();

/** LoginSign's endpoints (see docs/integrate.md). */
const as = {
  issuer: base,
  authorization_endpoint: `${base}/oauth/authorize`,
  token_endpoint: `${base}/oauth/token`,
  code_challenge_methods_supported: ['S256'],
};

/**
 * The OAuth client. Credentials from .data/demo.json are re-read for every sign-in, so
 * the example keeps working when `npm start` re-creates the demo application.
 */
function oauthClient() {
  const { clientId, clientSecret } = (credentials.source === '.data/demo.json' && readDemoCredentials()) || credentials;
  return { client: { client_id: clientId }, clientAuth: oauth.ClientSecretBasic(clientSecret) };
}
const userEndpoint = new URL(`${base}/api/user`);

// ---------------------------------------------------------------- sessions
// One random, HttpOnly cookie; everything else stays on the server. The name
// must not collide with LoginSign's own cookies: browsers scope cookies by
// host, not by port, and both run on 127.0.0.1 in the demo.

const COOKIE = 'example_sid';
const SECURE_COOKIE = REDIRECT_URI.startsWith('https:');
const LOGIN_TTL_MS = 10 * 60 * 1000; // an unfinished sign-in (state + code_verifier)
const SESSION_TTL_MS = 8 * 60 * 60 * 1000; // a signed-in session
const MAX_SESSIONS = 10_000;
/** sid -> { expires, pending?: { state, codeVerifier }, user?: profile, scope? } */
const sessions = new Map();

function readSession(req) {
  const sid = parseCookies(req.headers.cookie)[COOKIE];
  const session = sid ? sessions.get(sid) : undefined;
  if (!session) return { sid: undefined, session: undefined };
  if (session.expires < Date.now()) {
    sessions.delete(sid);
    return { sid: undefined, session: undefined };
  }
  return { sid, session };
}

/** Always a fresh id (no session fixation); the previous one, if any, is dropped. */
function startSession(res, oldSid, data, ttlMs) {
  if (oldSid) sessions.delete(oldSid);
  while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value);
  const sid = randomBytes(32).toString('base64url');
  sessions.set(sid, { ...data, expires: Date.now() + ttlMs });
  res.setHeader('set-cookie', cookie(sid, Math.floor(ttlMs / 1000)));
}

function endSession(res, sid) {
  if (sid) sessions.delete(sid);
  res.setHeader('set-cookie', cookie('', 0));
}

function cookie(value, maxAgeSeconds) {
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${SECURE_COOKIE ? '; Secure' : ''}`;
}

function parseCookies(header = '') {
  const out = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

setInterval(() => {
  const now = Date.now();
  for (const [sid, s] of sessions) if (s.expires < now) sessions.delete(sid);
}, 60_000).unref();

// ---------------------------------------------------------------- routes

/** GET /login: remember state + PKCE verifier, send the browser to LoginSign. */
async function login(req, res) {
  const { client } = oauthClient();
  const { sid } = readSession(req);
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  startSession(res, sid, { pending: { state, codeVerifier } }, LOGIN_TTL_MS);

  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('redirect_uri', REDIRECT_URI);
  url.searchParams.set('scope', SCOPE);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  redirect(res, url.href);
}

/** GET /callback: check state, exchange the code, fetch the profile. */
async function callback(req, res, url) {
  const { sid, session } = readSession(req);
  const pending = session?.pending;
  if (!pending) {
    return page(res, 400, 'Sign-in expired', `<p>This sign-in was not started here, or it took longer than 10 minutes.</p>${button('/login', 'Try again')}`);
  }
  // The state and verifier are single use, whatever happens next.
  sessions.delete(sid);
  const { client, clientAuth } = oauthClient();

  let params;
  try {
    // Checks `state` (CSRF) and turns ?error=... into an AuthorizationResponseError.
    params = oauth.validateAuthResponse(as, client, url.searchParams, pending.state);
  } catch (error) {
    endSession(res);
    if (error instanceof oauth.AuthorizationResponseError) {
      const declined = error.error === 'access_denied';
      return page(
        res,
        declined ? 403 : 400,
        declined ? 'Sign-in cancelled' : 'Sign-in failed',
        `<p>LoginSign answered <code>${esc(error.error)}</code>: ${esc(error.error_description ?? '')}</p>${button('/login', 'Try again')}`,
      );
    }
    return page(res, 400, 'Invalid sign-in response', `<p>${esc(error.message)}</p>${button('/login', 'Try again')}`);
  }

  try {
    const tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, pending.codeVerifier, httpOptions);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse);

    const userResponse = await oauth.protectedResourceRequest(tokens.access_token, 'GET', userEndpoint, undefined, undefined, httpOptions);
    if (!userResponse.ok) throw new Error(`GET /api/user answered ${userResponse.status}: ${await userResponse.text()}`);
    const user = await userResponse.json();

    // The access token is not kept: this app needs the profile once, at sign-in.
    startSession(res, undefined, { user, scope: tokens.scope }, SESSION_TTL_MS);
    redirect(res, '/');
  } catch (error) {
    endSession(res);
    // ResponseBodyError: LoginSign's {"error", "error_description"} (e.g. invalid_grant, invalid_client).
    const detail = error instanceof oauth.ResponseBodyError ? `${error.error}: ${error.error_description ?? ''}` : error.message;
    console.error(`callback: ${detail}`);
    return page(res, 502, 'Sign-in failed', `<p>The code could not be exchanged: <code>${esc(detail)}</code></p>${button('/login', 'Try again')}`);
  }
}

/** GET /: the sign-in button, or the profile once signed in. */
function home(req, res) {
  const { session } = readSession(req);
  const user = session?.user;
  if (!user) {
    return page(
      res,
      200,
      'Welcome',
      `<p>This is a tiny web app that lets people sign in with their LoginSign account.</p>
       <p><a class="ls-button" href="/login">Sign in with LoginSign</a></p>`,
    );
  }
  const email = user.email
    ? `${esc(user.email)}${user.email.toLowerCase().endsWith(`@${RELAY_DOMAIN}`) ? ' <small>(private relay address: mail to it is forwarded to the user)</small>' : ''}`
    : '<em>not shared</em>';
  const image = /^https?:\/\//.test(user.image ?? '') ? `<img src="${esc(user.image)}" alt="" width="64" height="64">` : '';
  return page(
    res,
    200,
    `Hello, ${esc(user.name ?? user.globalId)}`,
    `${image}
     <dl>
       <dt>Name</dt><dd id="name">${esc(user.name ?? '')}</dd>
       <dt>Global ID</dt><dd id="global-id">${esc(user.globalId)}</dd>
       <dt>Email</dt><dd id="email">${email}</dd>
       <dt>Connection id</dt><dd id="connection-id"><code>${esc(user.id)}</code></dd>
       <dt>Granted scope</dt><dd>${esc(session.scope ?? '')}</dd>
     </dl>
     <details><summary>GET /api/user</summary><pre>${esc(JSON.stringify(user, null, 2))}</pre></details>
     <form method="post" action="/logout"><button type="submit">Sign out</button></form>
     <p><small>Signing out here ends this app's session only; you stay signed in at LoginSign.</small></p>`,
  );
}

/** POST (or GET) /logout: forget this app's session. */
function logout(req, res) {
  endSession(res, readSession(req).sid);
  redirect(res, '/');
}

// ---------------------------------------------------------------- HTTP plumbing

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function button(href, label) {
  return `<p><a class="ls-button" href="${esc(href)}">${esc(label)}</a></p>`;
}

function securityHeaders(res) {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('referrer-policy', 'same-origin'); // the callback URL (with its code) never leaks to other sites
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

function redirect(res, location) {
  securityHeaders(res);
  res.writeHead(303, { location });
  res.end();
}

function page(res, status, title, body) {
  securityHeaders(res);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Example app</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
  .ls-button, button { display: inline-block; padding: .6rem 1.1rem; border-radius: 6px; border: 0; background: #1f3b8a; color: #fff; text-decoration: none; font: inherit; cursor: pointer; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; } dt { font-weight: 600; } dd { margin: 0; }
  pre { background: #f4f4f5; padding: .8rem; overflow: auto; } small { color: #555; }
</style></head>
<body><h1>${title}</h1>${body}</body></html>`);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `127.0.0.1:${PORT}`}`);
  try {
    if ((req.method === 'GET' || req.method === 'HEAD') && url.pathname === '/') return home(req, res);
    if (req.method === 'GET' && url.pathname === '/login') return await login(req, res);
    if (req.method === 'GET' && url.pathname === '/callback') return await callback(req, res, url);
    if ((req.method === 'POST' || req.method === 'GET') && url.pathname === '/logout') return logout(req, res);
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    return page(res, 404, 'Not found', button('/', 'Home'));
  } catch (error) {
    console.error(error);
    if (!res.headersSent) page(res, 500, 'Something went wrong', `<p>${esc(error.message)}</p>`);
    else res.end();
  }
});

server.on('error', (error) => fail(error.code === 'EADDRINUSE' ? `port ${PORT} is in use (another example running?); set PORT to use another one.` : error.message));
server.listen(PORT, HOST, () => {
  console.log(`Example app: http://${HOST === '0.0.0.0' ? '127.0.0.1' : HOST}:${PORT}`);
  console.log(`  LoginSign:    ${base}`);
  console.log(`  client_id:    ${credentials.clientId} (from ${credentials.source})`);
  console.log(`  redirect_uri: ${REDIRECT_URI}`);
});
