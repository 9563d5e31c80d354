import { html, SafeHtml } from '../shared/html';
import { csrfField, newAccountFields, page } from '../shared/layout';

/**
 * Developer Portal pages (server-rendered, no JavaScript needed; every value
 * goes through the escaping `html` template).
 */

export interface PortalDeveloper {
  name: string;
  email: string;
}

export interface PortalApp {
  id: string;
  name: string;
  clientId: string;
  redirectUris: string[];
  webhookUrl: string | null;
  logoUrl: string | null;
  createdAt: string | null;
  /** The TXT records that verify the application's sender domains (relay). */
  senderDomainVerifications?: { domain: string; name: string; value: string; verified: boolean }[];
  /** `web`, `spa` or `native`: fixed at creation. */
  type: string;
  postLogoutRedirectUris: string[];
}

/** The application types with one line each on when to choose them. */
export const APP_TYPE_CHOICES: { value: string; label: string; hint: string }[] = [
  { value: 'web', label: 'Web application', hint: 'Runs on your server and keeps a client secret there.' },
  { value: 'spa', label: 'Single-page app', hint: 'Runs in the browser: no secret, PKCE, may call the token endpoint cross-origin.' },
  { value: 'native', label: 'Native app', hint: 'Desktop or mobile: no secret, PKCE, a custom scheme or loopback redirect.' },
];

export const isPublicApp = (app: PortalApp) => app.type !== 'web';

export type AppTab = 'settings' | 'users' | 'webhooks' | 'relay' | 'integrate';

/** Path of one of an app's portal pages (ids are validated by the service before any page renders). */
export const appPath = (appId: string, rest = '') => `/developer/apps/${encodeURIComponent(appId)}${rest}`;

export function notice(message?: string | null, kind: 'ok' | 'error' = 'ok'): SafeHtml {
  if (!message) return html``;
  return kind === 'error' ? html`<p class="notice notice-error" role="alert">${message}</p>` : html`<p class="notice notice-ok" role="status">${message}</p>`;
}

export function badge(text: string, kind: 'ok' | 'off' | 'danger' | 'info'): SafeHtml {
  return html`<span class="badge badge-${kind}">${text}</span>`;
}

/** An ISO time as "2026-11-27 20:44:16 UTC"; `compact` (tables) drops the seconds, the full value stays in the title. */
export function formatTime(iso: string | null | undefined, compact = false): SafeHtml {
  if (!iso) return html`<span class="muted">never</span>`;
  const full = iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
  return compact ? html`<time datetime="${iso}" title="${full}">${full.slice(0, 16)}</time>` : html`<time datetime="${iso}">${full}</time>`;
}

/** A value with a copy button (the button only appears when /assets/portal.js runs). */
export function copyable(id: string, value: string, secret = false): SafeHtml {
  return html`<div class="copy-row"><code id="${id}" class="${secret ? 'secret' : ''}">${value}</code><button type="button" class="secondary small copy" data-copy="${id}" hidden>Copy</button></div>`;
}

/** The wide portal layout: a bar with the developer and sign-out, then the page. */
export function portalPage(title: string, developer: PortalDeveloper | null, csrf: string, body: SafeHtml): string {
  const bar = developer
    ? html`<nav class="portal-nav" aria-label="Developer Portal">
<a class="portal-home" href="/developer/apps">Developer Portal</a>
<a href="/developer/api-keys">API keys</a>
<span class="portal-who muted">${developer.name} · ${developer.email}</span>
<a href="/developer/security">Security</a>
<form method="post" action="/developer/logout" class="inline">${csrfField(csrf)}<button type="submit" class="secondary small">Sign out</button></form>
</nav>`
    : html``;
  return page({ title, wide: true, body: html`${bar}${body}<script src="/assets/portal.js" defer></script>` });
}

/** The header of an application's pages: name, client id and the tabs. */
export function appHeader(app: PortalApp, active: AppTab): SafeHtml {
  const tab = (key: AppTab, label: string, rest: string) =>
    html`<a href="${appPath(app.id, rest)}" class="${active === key ? 'tab active' : 'tab'}"${active === key ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<p class="crumbs"><a href="/developer/apps">Applications</a> ›</p>
<div class="app-head">
${app.logoUrl ? html`<img class="logo" src="${app.logoUrl}" alt="" width="40" height="40">` : html`<span class="logo-placeholder" aria-hidden="true">${[...app.name][0] ?? '?'}</span>`}
<div><h1 id="app-name">${app.name}</h1><p class="muted">Client ID <code>${app.clientId}</code></p></div>
</div>
<nav class="tabs" aria-label="Application">
${tab('settings', 'Settings', '')}${tab('users', 'Users', '/users')}${tab('webhooks', 'Webhooks', '/webhooks')}${tab('relay', 'Email relay', '/relay')}${tab('integrate', 'Integrate', '/integrate')}
</nav>`;
}

// ------------------------------------------------------------ sign-up / sign-in

export interface DevFormState {
  csrf: string;
  returnTo?: string;
  name?: string;
  email?: string;
  error?: string;
}

export function developerSignupPage(state: DevFormState): string {
  return page({
    title: 'Create a developer account',
    body: html`<p class="eyebrow">LoginSign Developer Portal</p>
<h1>Create a developer account</h1>
${notice(state.error, 'error')}
<form method="post" action="/developer/signup" novalidate>
${csrfField(state.csrf)}
${newAccountFields(state)}
<button type="submit">Create developer account</button>
</form>
<p class="muted">Already registered? <a href="/developer/login">Sign in to the Developer Portal</a></p>`,
  });
}

export function developerLoginPage(state: DevFormState): string {
  return page({
    title: 'Sign in to the Developer Portal',
    body: html`<p class="eyebrow">LoginSign Developer Portal</p>
<h1>Sign in</h1>
${notice(state.error, 'error')}
<form method="post" action="/developer/login" novalidate>
${csrfField(state.csrf)}
${state.returnTo ? html`<input type="hidden" name="return_to" value="${state.returnTo}">` : ''}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email" maxlength="320" required value="${state.email ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="muted"><a href="/developer/password/forgot">Forgot password?</a></p>
<p class="muted">New here? <a href="/developer/signup">Create a developer account</a></p>`,
  });
}

// ------------------------------------------------------------ applications

export function appsListPage(developer: PortalDeveloper, csrf: string, apps: PortalApp[], message?: string): string {
  const rows = apps.map(
    (app) => html`<li class="app-item">
<a href="${appPath(app.id)}"><strong>${app.name}</strong></a>
<span class="muted">Client ID <code>${app.clientId}</code> · created ${formatTime(app.createdAt)}</span>
<span class="app-links"><a href="${appPath(app.id, '/users')}">Users</a> · <a href="${appPath(app.id, '/webhooks')}">Webhooks</a> · <a href="${appPath(app.id, '/integrate')}">Integrate</a></span>
</li>`,
  );
  return portalPage(
    'Applications',
    developer,
    csrf,
    html`<div class="page-head"><h1>Applications</h1><a class="button" href="/developer/apps/new">New application</a></div>
${notice(message)}
${apps.length ? html`<ul class="app-list" id="app-list">${rows}</ul>` : html`<div class="panel empty"><p>No applications yet.</p><p class="muted">Register your first app to get a client ID and secret for "Sign in with LoginSign".</p></div>`}`,
  );
}

export interface AppFormValues {
  name?: string;
  redirectUris?: string;
  webhookUrl?: string;
  logoUrl?: string;
  /** Only on the new-application form: the type cannot change later. */
  type?: string;
  postLogoutRedirectUris?: string;
}

function typeChoice(selected: string | undefined): SafeHtml {
  const current = selected ?? 'web';
  return html`<fieldset>
<legend>Application type</legend>
${APP_TYPE_CHOICES.map(
  (t) =>
    html`<label><input type="radio" name="type" value="${t.value}"${current === t.value ? html` checked` : ''}> <span><strong>${t.label}</strong> <span class="muted">${t.hint}</span></span></label>`,
)}
</fieldset>
<p class="muted">The type cannot be changed later.</p>`;
}

function appFields(values: AppFormValues): SafeHtml {
  return html`<label for="name">Application name</label>
<input type="text" id="name" name="name" maxlength="100" required value="${values.name ?? ''}">
<label for="redirectUris">Redirect URIs</label>
<textarea id="redirectUris" name="redirectUris" rows="3" required aria-describedby="redirect-hint" spellcheck="false">${values.redirectUris ?? ''}</textarea>
<p class="muted" id="redirect-hint">One per line, matched exactly. https only, except http on 127.0.0.1 and [::1]. Native apps may also use a reverse-DNS scheme (com.example.app:/callback) and a loopback URI without a port, which matches any port.</p>
<label for="postLogoutRedirectUris">Return addresses after sign-out <span class="muted">(optional, post-logout URIs)</span></label>
<textarea id="postLogoutRedirectUris" name="postLogoutRedirectUris" rows="2" aria-describedby="logout-hint" spellcheck="false">${values.postLogoutRedirectUris ?? ''}</textarea>
<p class="muted" id="logout-hint">One per line, same rules: where sign-out (/oauth/logout with your id_token_hint) may send the user back to.</p>
<label for="webhookUrl">Webhook URL <span class="muted">(optional)</span></label>
<input type="url" id="webhookUrl" name="webhookUrl" maxlength="2048" value="${values.webhookUrl ?? ''}" aria-describedby="webhook-hint" spellcheck="false">
<p class="muted" id="webhook-hint">Receives signed events about your users (Standard Webhooks).</p>
<label for="logoUrl">Logo URL <span class="muted">(optional)</span></label>
<input type="url" id="logoUrl" name="logoUrl" maxlength="2048" value="${values.logoUrl ?? ''}" aria-describedby="logo-hint" spellcheck="false">
<p class="muted" id="logo-hint">An https image shown on the consent page.</p>`;
}

export function newAppPage(developer: PortalDeveloper, csrf: string, values: AppFormValues = {}, error?: string): string {
  return portalPage(
    'New application',
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> ›</p>
<h1>New application</h1>
${notice(error, 'error')}
<form method="post" action="/developer/apps" class="panel" novalidate>
${csrfField(csrf)}
${typeChoice(values.type)}
${appFields(values)}
<button type="submit">Create application</button>
</form>`,
  );
}

export interface RevealedSecrets {
  kind: 'created' | 'client' | 'webhook';
  clientSecret?: string;
  webhookSecret?: string;
}

/** The one time a secret is shown. */
export function credentialsPage(developer: PortalDeveloper, csrf: string, app: PortalApp, secrets: RevealedSecrets): string {
  const title = secrets.kind === 'created' ? 'Application created' : secrets.kind === 'client' ? 'New client secret' : 'New webhook secret';
  return portalPage(
    title,
    developer,
    csrf,
    html`${appHeader(app, 'settings')}
<section class="panel reveal">
<h2>${title}</h2>
<p class="warning" role="alert"><strong>Copy ${secrets.clientSecret && secrets.webhookSecret ? 'these secrets' : 'this secret'} now.</strong> ${secrets.clientSecret && secrets.webhookSecret ? 'They are' : 'It is'} shown only this once: LoginSign stores only a hash or an encrypted copy. If you lose ${secrets.clientSecret && secrets.webhookSecret ? 'them' : 'it'}, rotate to get a new one.</p>
<dl class="kv">
<dt>Client ID</dt><dd>${copyable('client-id', app.clientId)}</dd>
${secrets.clientSecret ? html`<dt>Client secret</dt><dd>${copyable('client-secret', secrets.clientSecret, true)}</dd>` : ''}
${secrets.webhookSecret ? html`<dt>Webhook signing secret</dt><dd>${copyable('webhook-secret', secrets.webhookSecret, true)}</dd>` : ''}
</dl>
<p class="muted">${isPublicApp(app) ? 'This is a public client: it has no client secret and proves itself with PKCE on every sign-in.' : 'Keep the client secret on your server only, never in a browser or a mobile app.'}</p>
<div class="row"><a class="button" href="${appPath(app.id, '/integrate')}">Next: integrate</a><a class="button secondary-link" href="${appPath(app.id)}">I have saved it</a></div>
</section>`,
  );
}

export function appSettingsPage(developer: PortalDeveloper, csrf: string, app: PortalApp, opts: { message?: string; error?: string; values?: AppFormValues }): string {
  const values: AppFormValues = opts.values ?? {
    name: app.name,
    redirectUris: app.redirectUris.join('\n'),
    webhookUrl: app.webhookUrl ?? '',
    logoUrl: app.logoUrl ?? '',
    postLogoutRedirectUris: app.postLogoutRedirectUris.join('\n'),
  };
  const appType = APP_TYPE_CHOICES.find((t) => t.value === app.type);
  return portalPage(
    app.name,
    developer,
    csrf,
    html`${appHeader(app, 'settings')}
${notice(opts.message)}${notice(opts.error, 'error')}
<div class="grid">
<form method="post" action="${appPath(app.id)}" class="panel" novalidate>
<h2>Settings</h2>
${csrfField(csrf)}
${appFields(values)}
<button type="submit">Save changes</button>
</form>
<div>
<section class="panel">
<h2>Credentials</h2>
<dl class="kv"><dt>Client ID</dt><dd>${copyable('client-id', app.clientId)}</dd>
<dt>Type</dt><dd id="app-type">${appType?.label ?? app.type} <span class="muted">${appType?.hint ?? ''}</span></dd>
<dt>Client secret</dt><dd class="muted">${isPublicApp(app) ? 'None: a public client signs in with PKCE.' : 'Hidden. Shown once when created or rotated.'}</dd><dt>Created</dt><dd>${formatTime(app.createdAt)}</dd></dl>
${
  isPublicApp(app)
    ? ''
    : html`<form method="post" action="${appPath(app.id, '/client-secret')}">
${csrfField(csrf)}
<p class="muted">Rotating issues a new client secret; the current one stops working immediately.</p>
<button type="submit" class="secondary">Rotate client secret</button>
</form>`
}
<form method="post" action="${appPath(app.id, '/webhook-secret')}">
${csrfField(csrf)}
<p class="muted">A new webhook signing secret; deliveries are signed with it from now on.</p>
<button type="submit" class="secondary">Rotate webhook secret</button>
</form>
</section>
<section class="panel danger-zone">
<h2>Delete application</h2>
<p class="muted">Removes the app, its users' connections and tokens. This cannot be undone.</p>
<a class="button danger" href="${appPath(app.id, '/delete')}">Delete application…</a>
</section>
</div>
</div>`,
  );
}

export function deleteAppPage(developer: PortalDeveloper, csrf: string, app: PortalApp): string {
  return portalPage(
    `Delete ${app.name}`,
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> › <a href="${appPath(app.id)}">${app.name}</a> ›</p>
<section class="panel danger-zone narrow">
<h1>Delete ${app.name}?</h1>
<p>Its client ID <code>${app.clientId}</code> stops working at once. Every user connection, token and webhook delivery of this app is deleted. This cannot be undone.</p>
<form method="post" action="${appPath(app.id, '/delete')}">
${csrfField(csrf)}
<div class="row"><button type="submit" class="danger">Delete application</button><a class="button secondary-link" href="${appPath(app.id)}">Cancel</a></div>
</form>
</section>`,
  );
}
