// Demo data for `npm start`, created once through the public JSON API and kept in .data/demo.json.
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { root } = require('./lib');

const file = path.join(root, '.data', 'demo.json');

async function post(base, route, body, cookie) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, cookie: res.headers.get('set-cookie')?.split(';')[0] };
}

/** Returns lines describing how to try LoginSign; creates the demo account on first run. */
async function ensureDemo(base, publicUrl) {
  let demo = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (!demo.user) {
    const user = { name: 'Demo User', email: 'demo@example.com', password: 'demo-password-123', region: 'Germany' };
    const res = await post(base, '/api/account/signup', user);
    if (res.status === 201) demo.user = { ...user, globalId: res.body.globalId };
    else if (res.status !== 404) demo.user = { ...user, globalId: '(created earlier)' };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  const lines = [];
  if (demo.user) lines.push(`Demo user: ${demo.user.email} / ${demo.user.password} (Global ID ${demo.user.globalId}) -> sign in at ${publicUrl}/login`);
  return lines;
}

module.exports = { ensureDemo };
