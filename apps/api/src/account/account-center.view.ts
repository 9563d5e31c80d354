import type { AccountAppView } from '@app/connections';
import { html, SafeHtml } from '../shared/html';
import { csrfField, page } from '../shared/layout';

/** The account center: profile, email addresses, connected apps, security, deletion. */

export type AccountTab = 'profile' | 'emails' | 'apps' | 'security';

export interface AccountChrome {
  csrf: string;
  name: string;
  globalId: string;
  /** A fixed message after a 303 (`?done=`), never text from the request. */
  notice?: string;
  error?: string;
}

export interface ProfileView extends AccountChrome {
  email: string;
  image: string | null;
  region: string;
  /** Values to re-show after a rejected form. */
  form?: { name: string; image: string; region: string };
}

export interface EmailsView extends AccountChrome {
  linked: { email: string; isPrimary: boolean }[];
  pending: { email: string; expiresAt: Date }[];
  devMailbox: boolean;
  addValue?: string;
  /** The primary address while it waits for its confirmation. */
  unconfirmedPrimary?: string | null;
}

export type AppSummary = AccountAppView;

export interface AppsView extends AccountChrome {
  apps: AppSummary[];
}

export interface AppView extends AccountChrome {
  app: AppSummary;
  /** Linked addresses the user may share instead of the relay address. */
  emails: string[];
}

export interface DeleteView extends AccountChrome {
  apps: string[];
}

const TABS: [AccountTab, string, string][] = [
  ['profile', '/account', 'Profile'],
  ['emails', '/account/emails', 'Emails'],
  ['apps', '/account/apps', 'Apps'],
  ['security', '/account/security', 'Security'],
];

/** `2023-07-19 14:30 UTC` in a <time> element. */
export function when(date: Date | null, never = 'Never'): SafeHtml {
  if (!date) return html`<span class="muted">${never}</span>`;
  const iso = date.toISOString();
  return html`<time datetime="${iso.replace(/\.\d{3}Z$/, 'Z')}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

function messages(v: AccountChrome): SafeHtml {
  return html`${v.notice ? html`<p class="notice notice-ok" role="status">${v.notice}</p>` : ''}${v.error ? html`<p class="notice notice-error" role="alert" id="form-error">${v.error}</p>` : ''}`;
}

export function accountPage(title: string, tab: AccountTab | null, v: AccountChrome, body: SafeHtml): string {
  return page({
    title,
    wide: true,
    body: html`<div class="account">
<div class="account-head">
<div><p class="muted">Signed in as</p><p class="who"><strong>${v.name}</strong> <code>${v.globalId}</code></p></div>
<form method="post" action="/logout">${csrfField(v.csrf)}<button type="submit" class="secondary">Sign out</button></form>
</div>
<nav class="tabs" aria-label="Account">
${TABS.map(([id, href, label]) => html`<a href="${href}" class="tab${id === tab ? ' active' : ''}"${id === tab ? html` aria-current="page"` : ''}>${label}</a>`)}
</nav>
${messages(v)}
${body}
</div>`,
  });
}

export function profilePage(v: ProfileView): string {
  const form = v.form ?? { name: v.name, image: v.image ?? '', region: v.region };
  return accountPage(
    'Your account',
    'profile',
    v,
    html`<h1>Your account</h1>
<section class="panel" aria-labelledby="overview-title">
<h2 id="overview-title">Overview</h2>
<div class="profile">
${v.image ? html`<img class="avatar" src="${v.image}" alt="" width="56" height="56">` : html`<span class="avatar" aria-hidden="true">${[...v.name][0] ?? '?'}</span>`}
<dl class="kv">
<dt>Name</dt><dd id="account-name">${v.name}</dd>
<dt>Global ID</dt><dd id="account-global-id"><code>${v.globalId}</code></dd>
<dt>Primary email</dt><dd id="account-email">${v.email}</dd>
<dt>Country or region</dt><dd id="account-region">${v.region}</dd>
</dl>
</div>
</section>
<section class="panel" aria-labelledby="profile-title">
<h2 id="profile-title">Edit profile</h2>
<form method="post" action="/account/profile" novalidate>
${csrfField(v.csrf)}
<label for="name">Name</label>
<input type="text" id="name" name="name" autocomplete="name" maxlength="200" required value="${form.name}">
<label for="image">Profile picture URL</label>
<input type="url" id="image" name="image" inputmode="url" maxlength="2048" placeholder="https://" value="${form.image}" aria-describedby="image-hint">
<p class="muted" id="image-hint">An https:// link to an image, or empty for none. Apps that you allow to see your profile receive it.</p>
<label for="region">Country or region</label>
<input type="text" id="region" name="region" autocomplete="country-name" maxlength="100" required value="${form.region}">
<button type="submit">Save profile</button>
</form>
</section>`,
  );
}

export function emailsPage(v: EmailsView): string {
  return accountPage(
    'Email addresses',
    'emails',
    v,
    html`<h1>Email addresses</h1>
${
  v.unconfirmedPrimary
    ? html`<section class="panel" aria-labelledby="confirm-title" id="confirm-primary">
<h2 id="confirm-title">Confirm your address</h2>
<p>We mailed a link to <strong>${v.unconfirmedPrimary}</strong>. Until you follow it, apps cannot receive this address. No mail? Check your spam folder or send it again.</p>
<form method="post" action="/account/emails/confirm">
${csrfField(v.csrf)}
<button type="submit" class="secondary">Send again</button>
</form>
</section>`
    : ''
}
<section class="panel" aria-labelledby="linked-title">
<h2 id="linked-title">Linked addresses</h2>
<p class="muted">You can sign in with any linked address and share it with apps. Mail from apps that see your relay address is forwarded to your primary address.</p>
<ul class="items" id="linked-emails">
${v.linked.map(
  (e) => html`<li>
<div><strong>${e.email}</strong> ${e.isPrimary ? html`<span class="badge badge-info">Primary</span>` : ''}</div>
${
  e.isPrimary
    ? ''
    : html`<div class="row">
<form method="post" action="/account/emails/primary">${csrfField(v.csrf)}<input type="hidden" name="email" value="${e.email}"><button type="submit" class="secondary small" aria-label="Make ${e.email} primary">Make primary</button></form>
<form method="post" action="/account/emails/remove">${csrfField(v.csrf)}<input type="hidden" name="email" value="${e.email}"><button type="submit" class="secondary small" aria-label="Remove ${e.email}">Remove</button></form>
</div>`
}
</li>`,
)}
</ul>
</section>
${
  v.pending.length
    ? html`<section class="panel" aria-labelledby="pending-title">
<h2 id="pending-title">Waiting for confirmation</h2>
<ul class="items" id="pending-emails">
${v.pending.map(
  (p) => html`<li>
<div><strong>${p.email}</strong> <span class="badge badge-off">Not verified</span><br><span class="muted">Link valid until ${when(p.expiresAt)}</span></div>
<div class="row">
<form method="post" action="/account/emails">${csrfField(v.csrf)}<input type="hidden" name="email" value="${p.email}"><button type="submit" class="secondary small" aria-label="Send a new link to ${p.email}">Send a new link</button></form>
<form method="post" action="/account/emails/remove">${csrfField(v.csrf)}<input type="hidden" name="email" value="${p.email}"><button type="submit" class="secondary small" aria-label="Cancel ${p.email}">Cancel</button></form>
</div>
</li>`,
)}
</ul>
</section>`
    : ''
}
<section class="panel" aria-labelledby="add-title">
<h2 id="add-title">Add an address</h2>
<form method="post" action="/account/emails" novalidate>
${csrfField(v.csrf)}
<label for="new-email">Email address</label>
<input type="email" id="new-email" name="email" autocomplete="email" maxlength="320" required value="${v.addValue ?? ''}" aria-describedby="add-hint">
<label for="add-password">Your current password</label>
<input type="password" id="add-password" name="password" autocomplete="current-password" required>
<p class="muted" id="add-hint">We email a link to this address; it is linked once you open the link (valid for 24 hours).${
      v.devMailbox ? html` In development the mail appears in the <a href="/dev/mailbox">dev mailbox</a>.` : ''
    }</p>
<button type="submit">Send verification link</button>
</form>
</section>`,
  );
}

function seenAddress(app: AppSummary): SafeHtml {
  if (app.sharedEmail === null) return html`<span class="muted">No email shared</span>`;
  if (app.sharedEmail === app.relayAddress) return html`${app.sharedEmail} <span class="badge badge-info">Hidden (relay)</span>`;
  return html`${app.sharedEmail}`;
}

function appLogo(app: AppSummary): SafeHtml {
  return app.logoUrl
    ? html`<img class="logo" src="${app.logoUrl}" alt="" width="40" height="40">`
    : html`<span class="logo-placeholder" aria-hidden="true">${[...app.appName][0] ?? '?'}</span>`;
}

/** "<app> asks to see <address>", with an Allow and a Decline form. */
function emailRequestPanel(app: AppSummary, csrf: string): SafeHtml {
  if (!app.emailRequest) return html``;
  const action = `/account/apps/${app.connectionId}/email-request`;
  return html`<div class="notice email-request" role="status" id="email-request-${app.connectionId}">
<p><strong>${app.appName}</strong> asks to see <strong>${app.emailRequest}</strong>.</p>
<div class="row">
<form method="post" action="${action}">${csrfField(csrf)}<input type="hidden" name="answer" value="allow"><button type="submit" class="small">Allow</button></form>
<form method="post" action="${action}">${csrfField(csrf)}<input type="hidden" name="answer" value="decline"><button type="submit" class="secondary small">Decline</button></form>
</div>
</div>`;
}

export function appsPage(v: AppsView): string {
  return accountPage(
    'Apps using LoginSign',
    'apps',
    v,
    html`<h1>Apps using LoginSign</h1>
<p class="muted">Apps you signed in to with LoginSign. Choose what each one sees, and stop using LoginSign with an app at any time.</p>
${
  v.apps.length === 0
    ? html`<section class="panel"><p id="no-apps">You have not signed in to any app with LoginSign yet.</p></section>`
    : html`<ul class="items panel" id="apps">
${v.apps.map(
  (a) => html`<li>
<div class="app-line">${appLogo(a)}<div><a href="/account/apps/${a.connectionId}"><strong>${a.appName}</strong></a>${a.active ? '' : html` <span class="badge badge-off">Stopped using</span>`}<br>
<span class="muted">Sees: ${seenAddress(a)} · Joined ${when(a.joined)} · Last used ${when(a.lastUsed)}</span>
${emailRequestPanel(a, v.csrf)}</div></div>
<a class="button secondary-link small" href="/account/apps/${a.connectionId}" aria-label="Manage ${a.appName}">Manage</a>
</li>`,
)}
</ul>`
}`,
  );
}

export function appPage(v: AppView): string {
  const a = v.app;
  const base = `/account/apps/${a.connectionId}`;
  const choice = a.sharedEmail === null ? 'none' : a.sharedEmail === a.relayAddress ? 'relay' : a.sharedEmail;
  return accountPage(
    a.appName,
    'apps',
    v,
    html`<p><a href="/account/apps">← All apps</a></p>
<div class="app-line">${appLogo(a)}<h1>${a.appName}</h1></div>
${emailRequestPanel(a, v.csrf)}
<section class="panel" aria-labelledby="details-title">
<h2 id="details-title">Details</h2>
<dl class="kv">
<dt>Joined</dt><dd>${when(a.joined)}</dd>
<dt>Last used</dt><dd>${when(a.lastUsed)}</dd>
<dt>Email this app sees</dt><dd id="app-email">${seenAddress(a)}</dd>
<dt>Status</dt><dd id="app-status">${a.active ? 'Signed in with LoginSign' : 'You stopped using LoginSign with this app. Signing in again asks for your permission.'}</dd>
</dl>
</section>
<section class="panel" aria-labelledby="share-title">
<h2 id="share-title">Email address</h2>
<form method="post" action="${base}/email">
${csrfField(v.csrf)}
<fieldset>
<legend>Which email should ${a.appName} see?</legend>
<label><input type="radio" name="share" value="relay"${choice === 'relay' ? html` checked` : ''}> Hide my email <span class="muted">(${a.relayAddress}, forwards to you)</span></label>
${v.emails.map((e) => html`<label><input type="radio" name="share" value="${e}"${choice === e ? html` checked` : ''}> Share ${e}</label>`)}
<label><input type="radio" name="share" value="none"${choice === 'none' ? html` checked` : ''}> Don't share an email</label>
</fieldset>
<button type="submit">Save email choice</button>
</form>
</section>
<section class="panel" aria-labelledby="mail-title">
<h2 id="mail-title">Mail from ${a.appName}</h2>
<div class="setting">
<div><strong>Email forwarding</strong> <span class="badge ${a.isForwarding ? 'badge-ok' : 'badge-off'}" id="forwarding-state">${a.isForwarding ? 'On' : 'Off'}</span>
<p class="muted">${a.isForwarding ? html`Mail sent to ${a.relayAddress} reaches you.` : html`Mail sent to ${a.relayAddress} is refused.`}</p></div>
<form method="post" action="${base}/forwarding">${csrfField(v.csrf)}<input type="hidden" name="isForwarding" value="${a.isForwarding ? 'false' : 'true'}"><button type="submit" class="secondary">${a.isForwarding ? 'Turn forwarding off' : 'Turn forwarding on'}</button></form>
</div>
<div class="setting">
<div><strong>Mute emails from this app</strong> <span class="badge ${a.emailMuted ? 'badge-danger' : 'badge-ok'}" id="muted-state">${a.emailMuted ? 'Muted' : 'Not muted'}</span>
<p class="muted">${a.emailMuted ? 'Mail from this app is accepted and silently dropped.' : 'Mail from this app is delivered.'}</p></div>
<form method="post" action="${base}/mute">${csrfField(v.csrf)}<input type="hidden" name="emailMuted" value="${a.emailMuted ? 'false' : 'true'}"><button type="submit" class="secondary">${a.emailMuted ? 'Unmute emails' : 'Mute emails'}</button></form>
</div>
</section>
${
  a.active
    ? html`<section class="panel danger-zone" aria-labelledby="stop-title">
<h2 id="stop-title">Stop using LoginSign with ${a.appName}</h2>
<p class="muted">${a.appName} is told, and you are signed out of it: its access ends now. If you sign in to it with LoginSign again, you are asked for permission again.</p>
<form method="post" action="${base}/revoke">${csrfField(v.csrf)}<button type="submit" class="danger">Stop using LoginSign with this app</button></form>
</section>`
    : ''
}`,
  );
}

/** `sections`: the page's further sections (sessions, two-step sign-in, passkeys), each rendered by its own view. */
export function securityPage(v: AccountChrome, sections: SafeHtml[] = []): string {
  return accountPage(
    'Password & security',
    'security',
    v,
    html`<h1>Password &amp; security</h1>
<section class="panel" aria-labelledby="password-title">
<h2 id="password-title">Change password</h2>
<form method="post" action="/account/password" novalidate>
${csrfField(v.csrf)}
<input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden>
<label for="current-password">Current password</label>
<input type="password" id="current-password" name="current_password" autocomplete="current-password" required>
<label for="new-password">New password</label>
<input type="password" id="new-password" name="new_password" autocomplete="new-password" minlength="8" maxlength="128" required aria-describedby="new-password-hint">
<p class="muted" id="new-password-hint">8 to 128 characters, not a common password. Your other sessions are signed out.</p>
<button type="submit">Change password</button>
</form>
</section>
${sections}
<section class="panel danger-zone" aria-labelledby="delete-title">
<h2 id="delete-title">Delete your LoginSign account</h2>
<p class="muted">Every app you use with LoginSign is told, and you can no longer sign in to them with LoginSign.</p>
<a class="button danger" href="/account/delete">Delete my account…</a>
</section>`,
  );
}

export function deletePage(v: DeleteView): string {
  return accountPage(
    'Delete your account',
    null,
    v,
    html`<h1>Delete your LoginSign account</h1>
<section class="panel danger-zone">
<p>This cannot be undone. Your profile, linked addresses and relay addresses are deleted, and your Global ID <code>${v.globalId}</code> is retired for good.</p>
${
  v.apps.length
    ? html`<p>These apps are told that your account was deleted:</p><ul id="delete-apps">${v.apps.map((a) => html`<li>${a}</li>`)}</ul>`
    : html`<p class="muted">You do not use any app with LoginSign.</p>`
}
<form method="post" action="/account/delete" novalidate>
${csrfField(v.csrf)}
<input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden>
<label for="delete-password">Enter your password to confirm</label>
<input type="password" id="delete-password" name="password" autocomplete="current-password" required>
<div class="row">
<button type="submit" class="danger">Delete my account</button>
<a class="button secondary-link" href="/account/security">Cancel</a>
</div>
</form>
</section>`,
  );
}

export function accountDeletedPage(): string {
  return page({
    title: 'Account deleted',
    body: html`<h1>Your LoginSign account was deleted</h1>
<p>The apps you used with LoginSign have been told. You can create a new account with the same email address at any time.</p>
<p><a href="/signup">Create an account</a></p>`,
  });
}

/** The page an emailed link opens: one button, so mail scanners that prefetch links verify nothing. */
export interface VerifyEmailView {
  csrf: string;
  token: string;
  /** The address a live link confirms; null when the link is unusable or not this account's. */
  email: string | null;
  /** The signed-in account the address would be added to. */
  account: { name: string; globalId: string };
  /** The link was sent for another account. */
  otherAccount?: boolean;
  error?: string;
}

export function verifyEmailPage(v: VerifyEmailView): string {
  const who = html`<strong>${v.account.name}</strong> (Global ID <code>${v.account.globalId}</code>)`;
  if (v.otherAccount) {
    return page({
      title: 'Link of another account',
      body: html`<h1>This link is for another account</h1>
<p class="error" role="alert">This link was sent for another LoginSign account. Nothing was changed and the link still works for that account.</p>
<p>You are signed in as ${who}. To confirm the address, sign out and sign in to the account the link was sent for.</p>`,
    });
  }
  if (!v.email) {
    return page({
      title: 'Link not valid',
      body: html`<h1>This link is not valid</h1>
<p class="error" role="alert">${v.error ?? 'The link is invalid, has expired or was already used.'}</p>
<p>Ask for a new link on your <a href="/account/emails">email addresses</a> page.</p>`,
    });
  }
  return page({
    title: 'Confirm your email address',
    body: html`<h1>Confirm your email address</h1>
<p>Confirm <strong>${v.email}</strong> for the LoginSign account ${who}?</p>
<form method="post" action="/account/emails/verify">
${csrfField(v.csrf)}
<input type="hidden" name="token" value="${v.token}">
<button type="submit">Confirm address</button>
</form>`,
  });
}

export function emailVerifiedPage(email: string): string {
  return page({
    title: 'Address confirmed',
    body: html`<h1>Address confirmed</h1>
<p><strong>${email}</strong> is now linked to your LoginSign account.</p>
<p><a href="/account/emails">Go to your email addresses</a></p>`,
  });
}

export interface MailboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

/** Plain text with its http(s) links clickable (everything escaped). */
function linkify(text: string): SafeHtml {
  const parts: unknown[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    parts.push(text.slice(last, match.index));
    parts.push(html`<a href="${match[0]}">${match[0]}</a>`);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return html`${parts}`;
}

export function devMailboxPage(mails: MailboxMail[]): string {
  return page({
    title: 'Dev mailbox',
    wide: true,
    body: html`<div class="account">
<h1>Dev mailbox</h1>
<p class="muted">Mail LoginSign would have sent (no <code>SMTP_URL</code> configured), newest first, kept for 24 hours. This page does not exist in production.</p>
${
  mails.length === 0
    ? html`<section class="panel"><p>No mail yet.</p></section>`
    : mails.map(
        (m) => html`<article class="panel mail">
<h2>${m.subject}</h2>
<p class="muted">To <strong>${m.to}</strong> · ${when(new Date(m.sentAt))}</p>
<pre>${linkify(m.text)}</pre>
</article>`,
      )
}
</div>`,
  });
}
