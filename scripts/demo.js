// Demo data for `npm start`, created through the public JSON API and kept in .data/demo.json
// (mode 0600: it holds the demo application's client secret, which the API shows only once).
//
// Every start re-checks the data against the running server, so a dropped database, a
// deleted application or a rotated secret is repaired instead of leaving stale credentials.
// Nothing here may stop the server: problems become warning lines in the banner.
const { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } = require('node:fs');
const path = require('node:path');
const { root } = require('./lib');

// DEMO_FILE: another place for it (the start-up tests keep theirs apart from a developer's).
const file = process.env.DEMO_FILE || path.join(root, '.data', 'demo.json');

const DEMO_USER = { name: 'Demo User', email: 'demo@example.com', password: 'demo-password-123', region: 'Germany' };
const DEMO_DEVELOPER = { name: 'Demo Developer', email: 'demo-dev@example.com', password: 'demo-dev-password-123' };
const DEMO_APP_NAME = 'Demo Client';
const DEMO_REDIRECT_URI = 'http://127.0.0.1:4000/callback';
const EXAMPLE_URL = 'http://127.0.0.1:4000';

async function call(base, method, route, { body, cookie } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = body instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json';
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : body instanceof URLSearchParams ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the body stays null.
  }
  const setCookie = res.headers.getSetCookie?.() ?? [];
  return { status: res.status, body: json, cookie: setCookie[0]?.split(';')[0] };
}

function describe(res) {
  return res.body?.error ? `${res.status} ${res.body.error}: ${res.body.error_description}` : `HTTP ${res.status}`;
}

/**
 * Signs in with `account` (POST <prefix>/login), or signs it up (POST <prefix>/signup) when it
 * does not exist (first start, or the database was dropped). Returns the response body and cookie.
 */
async function signInOrUp(base, prefix, account, known) {
  const credentials = { email: account.email, password: account.password };
  const login = () => call(base, 'POST', `${prefix}/login`, { body: credentials });
  const signup = () => call(base, 'POST', `${prefix}/signup`, { body: account });
  // Known from an earlier start: log in first; otherwise sign up first (no failed login recorded).
  let res = await (known ? login() : signup());
  if (known && res.status === 401) res = await signup();
  else if (!known && res.status === 409) res = await login();
  if (res.status === 200 || res.status === 201) return res;
  const hint = res.status === 401 ? ` (${account.email} exists with another password; delete it or the database to recreate it)` : '';
  throw new Error(`${prefix} for ${account.email}: ${describe(res)}${hint}`);
}

/** True when LoginSign accepts these client credentials (no code is sent: the answer is 400, not 401). */
async function secretWorks(base, clientId, clientSecret) {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code' }),
    signal: AbortSignal.timeout(15000),
  });
  await res.arrayBuffer();
  return res.status !== 401;
}

/** The "Demo Client" application with a client secret we know; created, repaired or re-keyed as needed. */
async function ensureApp(base, cookie, saved) {
  const list = await call(base, 'GET', '/api/developer/applications', { cookie });
  if (list.status !== 200) throw new Error(`listing applications: ${describe(list)}`);
  const apps = list.body.applications;
  let app = apps.find((a) => saved && a.id === saved.id) ?? apps.find((a) => a.name === DEMO_APP_NAME);

  if (!app) {
    const created = await call(base, 'POST', '/api/developer/applications', { cookie, body: { name: DEMO_APP_NAME, redirectUris: [DEMO_REDIRECT_URI] } });
    if (created.status !== 201) throw new Error(`creating the demo application: ${describe(created)}`);
    const { id, name, clientId, clientSecret, redirectUris } = created.body;
    return { id, name, clientId, clientSecret, redirectUris };
  }

  if (!app.redirectUris.includes(DEMO_REDIRECT_URI)) {
    const patched = await call(base, 'PATCH', `/api/developer/applications/${app.id}`, {
      cookie,
      body: { redirectUris: [...app.redirectUris, DEMO_REDIRECT_URI].slice(-20) },
    });
    if (patched.status !== 200) throw new Error(`adding ${DEMO_REDIRECT_URI} to the demo application: ${describe(patched)}`);
    app = patched.body;
  }

  let clientSecret = saved && saved.id === app.id && saved.clientId === app.clientId ? saved.clientSecret : undefined;
  if (!clientSecret || !(await secretWorks(base, app.clientId, clientSecret))) {
    // The secret is shown only once; when ours is lost or stale, rotate to get a new one.
    const rotated = await call(base, 'POST', `/api/developer/applications/${app.id}/client-secret`, { cookie });
    if (rotated.status !== 200) throw new Error(`rotating the demo client secret: ${describe(rotated)}`);
    clientSecret = rotated.body.clientSecret;
  }
  return { id: app.id, name: app.name, clientId: app.clientId, clientSecret, redirectUris: app.redirectUris };
}

function readDemoFile() {
  if (!existsSync(file)) return {};
  try {
    const data = JSON.parse(readFileSync(file, 'utf8'));
    return data && typeof data === 'object' && !Array.isArray(data) ? data : {};
  } catch {
    return {};
  }
}

function writeDemoFile(demo) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
}

/**
 * Creates (first start) or re-checks (later starts) the demo user, the demo developer and the
 * demo application. Returns lines for the `npm start` banner; never throws.
 */
async function ensureDemo(base, publicUrl) {
  const demo = readDemoFile();
  const warnings = [];

  try {
    const res = await signInOrUp(base, '/api/account', DEMO_USER, Boolean(demo.user?.globalId));
    demo.user = { ...DEMO_USER, globalId: res.body.globalId };
  } catch (error) {
    warnings.push(`could not prepare the demo user: ${error.message}`);
  }

  try {
    const res = await signInOrUp(base, '/api/developer', DEMO_DEVELOPER, Boolean(demo.developer?.id));
    demo.developer = { ...DEMO_DEVELOPER, id: res.body.id };
    try {
      demo.app = await ensureApp(base, res.cookie, demo.app);
    } finally {
      await call(base, 'POST', '/api/developer/logout', { cookie: res.cookie }).catch(() => {});
    }
  } catch (error) {
    warnings.push(`could not prepare the demo application: ${error.message}`);
  }

  try {
    demo.publicUrl = publicUrl;
    writeDemoFile(demo);
  } catch (error) {
    warnings.push(`could not write ${path.relative(root, file)}: ${error.message}`);
  }

  const lines = [];
  if (demo.user?.globalId) lines.push(`Demo user:       ${demo.user.email} / ${demo.user.password} (Global ID ${demo.user.globalId}) -> ${publicUrl}/login`);
  if (demo.developer?.id) lines.push(`Demo developer:  ${demo.developer.email} / ${demo.developer.password} -> ${publicUrl}/developer (the developer portal)`);
  if (demo.app?.clientId) {
    lines.push(`Demo app:        "${demo.app.name}" client_id ${demo.app.clientId} (secret in ${path.relative(root, file)})`);
    lines.push('');
    lines.push(`Try a sign-in: run \`npm run example\` in another terminal and open ${EXAMPLE_URL}`);
  }
  for (const warning of warnings) lines.push(`! warning: ${warning}`);
  return lines;
}

module.exports = { ensureDemo, DEMO_REDIRECT_URI };
