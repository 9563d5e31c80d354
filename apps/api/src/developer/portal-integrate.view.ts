import { html } from '../shared/html';
import { appHeader, copyable, isPublicApp, PortalApp, PortalDeveloper, portalPage } from './portal.view';

/** What the Integrate page needs: this deployment's URLs and the app. */
export interface IntegrateView {
  publicUrl: string;
  app: PortalApp;
}

/** A JavaScript string literal. */
const js = (value: string) => JSON.stringify(value);
/** A single-quoted shell word. */
const sh = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function nodeSnippet(base: string, app: PortalApp, redirectUri: string): string {
  const callbackPath = (() => {
    try {
      return new URL(redirectUri).pathname || '/callback';
    } catch {
      return '/callback';
    }
  })();
  return `// npm install oauth4webapi   (Node.js 20+, ES module: save as server.mjs)
import { createServer } from 'node:http';
import * as oauth from 'oauth4webapi';

// Against a plain-http LoginSign on 127.0.0.1 (development), pass
// { [oauth.allowInsecureRequests]: true } as the last argument of each request.
const as = await oauth.processDiscoveryResponse(
  new URL(${js(base)}),
  await oauth.discoveryRequest(new URL(${js(base)}), { algorithm: 'oidc' }),
);
const client = { client_id: ${js(app.clientId)} };
const clientAuth = oauth.ClientSecretBasic(process.env.LOGINSIGN_CLIENT_SECRET); // never hard-code it
const redirectUri = ${js(redirectUri)};

// Keep these per browser (e.g. in your session store), never in the URL.
const pending = new Map(); // state -> code_verifier

createServer(async (req, res) => {
  const url = new URL(req.url, redirectUri);
  if (url.pathname === '/login') {
    const state = oauth.generateRandomState();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    pending.set(state, codeVerifier);
    const authorize = new URL(as.authorization_endpoint);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope: 'profile email',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    res.writeHead(303, { location: authorize.href }).end();
  } else if (url.pathname === ${js(callbackPath)}) {
    const state = url.searchParams.get('state');
    const codeVerifier = pending.get(state);
    pending.delete(state);
    if (!codeVerifier) return res.writeHead(400).end('Unknown or used state');
    const params = oauth.validateAuthResponse(as, client, url, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    const user = await (await fetch(new URL('/api/user', as.issuer), {
      headers: { authorization: \`Bearer \${tokens.access_token}\` },
    })).json();
    // user = { id, globalId, name, email, image }: key your account on user.id
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(\`Signed in as \${user.name}\`);
  } else {
    res.writeHead(404).end();
  }
}).listen(4000);
`;
}

function spaSnippet(base: string, app: PortalApp, redirectUri: string): string {
  return `// npm install oauth4webapi   (bundled into your single-page app; no secret anywhere)
import * as oauth from 'oauth4webapi';

const issuer = new URL(${js(base)});
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc' }));
const client = { client_id: ${js(app.clientId)} };
const clientAuth = oauth.None(); // a public client: PKCE instead of a secret
const redirectUri = ${js(redirectUri)};

export async function signIn() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem('loginsign', JSON.stringify({ codeVerifier, state }));
  const authorize = new URL(as.authorization_endpoint);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(authorize);
}

// On the page at redirectUri. The token endpoint and /api/user answer this
// origin cross-origin (CORS) because it is one of your redirect URIs' origins.
export async function completeSignIn() {
  const { codeVerifier, state } = JSON.parse(sessionStorage.getItem('loginsign'));
  sessionStorage.removeItem('loginsign');
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), state);
  // Optional DPoP: bind the tokens to a key that never leaves this browser.
  // const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  // ...then pass { DPoP } as the last argument here and use oauth.protectedResourceRequest below.
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  const user = await (await fetch(new URL('/api/user', as.issuer), {
    headers: { authorization: \`Bearer \${tokens.access_token}\` },
  })).json();
  return user; // { id, globalId, name, email, image }
}
`;
}

function nativeSnippet(base: string, app: PortalApp): string {
  const scheme = app.redirectUris.find((uri) => !/^https?:/.test(uri));
  const loopback = app.redirectUris.find((uri) => /^http:\/\/(127\.0\.0\.1|\[::1\])\//.test(uri)) ?? 'http://127.0.0.1/callback';
  return `// npm install openid-client   (Node.js 20+ desktop app or CLI; no secret anywhere)
import { createServer } from 'node:http';
import * as client from 'openid-client';

const config = await client.discovery(new URL(${js(base)}), ${js(app.clientId)}, undefined, client.None());

// Loopback redirect (RFC 8252 7.3): registered without a port (${loopback}),
// it matches whatever port the app listens on.
const server = createServer().listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const redirectUri = new URL(${js(loopback)});
redirectUri.port = String(server.address().port);
// A mobile app registers a reverse-DNS scheme instead (e.g. ${scheme ?? 'com.example.app:/callback'})
// and reads the code from the URL the operating system hands back to it.
const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const authorizeUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri.href,
  scope: 'openid profile email offline_access',
  state,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
});
console.log('Open in the system browser:', authorizeUrl.href);

const callbackUrl = await new Promise((resolve) => server.on('request', (req, res) => {
  res.end('You can close this window.');
  resolve(new URL(req.url, redirectUri));
}));
server.close();
const tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: codeVerifier, expectedState: state });
// tokens.access_token, tokens.refresh_token (offline_access), tokens.claims()
`;
}

function curlSnippet(base: string, app: PortalApp, redirectUri: string): string {
  const auth = isPublicApp(app) ? `--data-urlencode ${sh('client_id=' + app.clientId)}` : `-u ${sh(app.clientId + ':')}"$LOGINSIGN_CLIENT_SECRET"`;
  return `# Exchange the code from your callback for an access token${isPublicApp(app) ? ' (public client: client_id only)' : ' (server side)'}
curl -s ${auth} \\
  --data-urlencode grant_type=authorization_code \\
  --data-urlencode "code=$CODE" \\
  --data-urlencode ${sh('redirect_uri=' + redirectUri)} \\
  --data-urlencode "code_verifier=$CODE_VERIFIER" \\
  ${base}/oauth/token

# Read the user
curl -s -H "Authorization: Bearer $ACCESS_TOKEN" ${base}/api/user
`;
}

/** The snippet for the application's type: server with a secret, browser with PKCE, or native with PKCE. */
function appSnippet(base: string, app: PortalApp, redirectUri: string) {
  if (app.type === 'spa') {
    return html`<section class="panel">
<h2>2. In the browser with PKCE (oauth4webapi)</h2>
<p class="muted">A single-page app is a public client: no secret, PKCE S256 on every sign-in, DPoP optional.</p>
<div class="snippet"><button type="button" class="secondary small copy" data-copy="snippet-spa" hidden>Copy</button><pre class="code"><code id="snippet-spa">${spaSnippet(base, app, redirectUri)}</code></pre></div>
</section>`;
  }
  if (app.type === 'native') {
    return html`<section class="panel">
<h2>2. Native app with PKCE (openid-client)</h2>
<p class="muted">A native app is a public client: no secret, PKCE S256, the system browser, and a loopback or reverse-DNS scheme redirect (RFC 8252).</p>
<div class="snippet"><button type="button" class="secondary small copy" data-copy="snippet-native" hidden>Copy</button><pre class="code"><code id="snippet-native">${nativeSnippet(base, app)}</code></pre></div>
</section>`;
  }
  return html`<section class="panel">
<h2>2. Node.js with PKCE (oauth4webapi)</h2>
<p class="muted">Set <code>LOGINSIGN_CLIENT_SECRET</code> in the environment; open <code>/login</code> on your app.</p>
<div class="snippet"><button type="button" class="secondary small copy" data-copy="snippet-node" hidden>Copy</button><pre class="code"><code id="snippet-node">${nodeSnippet(base, app, redirectUri)}</code></pre></div>
</section>`;
}

export function integratePage(developer: PortalDeveloper, csrf: string, v: IntegrateView): string {
  const base = v.publicUrl.replace(/\/+$/, '');
  const app = v.app;
  const redirectUri = app.redirectUris[0] ?? 'https://your-app.example/callback';
  const authorizeExample = `${base}/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: redirectUri,
    scope: 'profile email',
    state: 'RANDOM_STATE',
    code_challenge: 'BASE64URL_SHA256_OF_VERIFIER',
    code_challenge_method: 'S256',
  })}`;
  return portalPage(
    `Integrate · ${app.name}`,
    developer,
    csrf,
    html`${appHeader(app, 'integrate')}
<section class="panel">
<h2>Endpoints</h2>
<p class="muted">"Sign in with LoginSign" is OAuth 2.0 authorization code flow with PKCE (S256). Any certified OAuth 2.0 / OpenID Connect client library works.</p>
<dl class="kv wide-kv">
<dt>Client ID</dt><dd>${copyable('int-client-id', app.clientId)}</dd>
<dt>Client secret</dt><dd class="muted">${
      isPublicApp(app)
        ? 'None: this is a public client (token endpoint authentication method none); every sign-in uses PKCE S256.'
        : html`Shown once at creation; <a href="/developer/apps/${app.id}">rotate it in Settings</a> if you lost it.`
    }</dd>
<dt>Authorize URL</dt><dd>${copyable('int-authorize', `${base}/oauth/authorize`)}</dd>
<dt>Token endpoint</dt><dd>${copyable('int-token', `${base}/oauth/token`)}</dd>
<dt>User endpoint</dt><dd>${copyable('int-user', `${base}/api/user`)}</dd>
<dt>OIDC discovery</dt><dd>${copyable('int-discovery', `${base}/.well-known/openid-configuration`)}</dd>
<dt>Redirect URIs</dt><dd>${app.redirectUris.map((uri) => html`<code class="block">${uri}</code>`)}</dd>
</dl>
</section>
<section class="panel">
<h2>1. Send the user to LoginSign</h2>
<p>A fresh random <code>state</code> and PKCE <code>code_verifier</code> per sign-in, kept server-side; then redirect to:</p>
${copyable('int-authorize-example', authorizeExample)}
</section>
${appSnippet(base, app, redirectUri)}
<section class="panel">
<h2>3. Or by hand with curl</h2>
<div class="snippet"><button type="button" class="secondary small copy" data-copy="snippet-curl" hidden>Copy</button><pre class="code"><code id="snippet-curl">${curlSnippet(base, app, redirectUri)}</code></pre></div>
<p class="muted"><code>GET /api/user</code> returns <code>{id, globalId, name, email, image}</code>; <code>id</code> is stable for this user in your app only. Treat every value as untrusted text and escape it when you display it.</p>
</section>`,
  );
}
