import type { DeveloperUserView } from '@app/connections';
import { html, SafeHtml } from '../shared/html';
import { csrfField } from '../shared/layout';
import { appHeader, appPath, badge, formatTime, notice, PortalApp, PortalDeveloper, portalPage } from './portal.view';

/** A user row exactly as the JSON API returns it. */
export type PortalUser = DeveloperUserView;

/** The list's filters, carried through every row action so the page comes back as it was. */
export interface UserFilters {
  search?: string;
  status?: string;
  cursor?: string;
}

export const STATUS_OPTIONS: [string, string][] = [
  ['', 'All users'],
  ['active', 'Active'],
  ['inactive', 'Inactive (consent revoked)'],
  ['blocked', 'Blocked'],
];

export function usersQuery(filters: UserFilters): string {
  const q = new URLSearchParams();
  if (filters.search) q.set('search', filters.search);
  if (filters.status) q.set('status', filters.status);
  if (filters.cursor) q.set('cursor', filters.cursor);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function filterFields(filters: UserFilters): SafeHtml {
  return html`${filters.search ? html`<input type="hidden" name="search" value="${filters.search}">` : ''}${filters.status ? html`<input type="hidden" name="status" value="${filters.status}">` : ''}${filters.cursor ? html`<input type="hidden" name="cursor" value="${filters.cursor}">` : ''}`;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

function rowActions(app: PortalApp, user: PortalUser, csrf: string, filters: UserFilters): SafeHtml {
  const base = appPath(app.id, `/users/${encodeURIComponent(user.id)}`);
  return html`<div class="actions">
<form method="post" action="${base}/block" class="inline">${csrfField(csrf)}${filterFields(filters)}<input type="hidden" name="blocked" value="${user.blocked ? 'false' : 'true'}"><button type="submit" class="small ${user.blocked ? 'secondary' : 'danger-outline'}" aria-label="${user.blocked ? 'Unblock' : 'Block'} ${user.name} (${user.globalId})">${user.blocked ? 'Unblock' : 'Block'}</button></form>
<form method="post" action="${base}/forwarding" class="inline">${csrfField(csrf)}${filterFields(filters)}<input type="hidden" name="isForwarding" value="${user.isForwarding ? 'false' : 'true'}"><button type="submit" class="small secondary" aria-label="Turn forwarding ${user.isForwarding ? 'off' : 'on'} for ${user.name} (${user.globalId})">Forwarding ${user.isForwarding ? 'off' : 'on'}</button></form>
<a class="small-link" href="${base}${usersQuery(filters)}" aria-label="Manage ${user.name} (${user.globalId})">Manage…</a>
</div>`;
}

export interface UsersPageData {
  users: PortalUser[];
  total: number;
  /** `total` is a lower bound: shown as "1,000+". */
  totalIsLowerBound?: true;
  nextCursor: string | null;
}

export function usersPage(developer: PortalDeveloper, csrf: string, app: PortalApp, data: UsersPageData, filters: UserFilters, message?: string): string {
  const rows = data.users.map(
    (u) => html`<tr id="user-${u.id}" class="${u.blocked ? 'is-blocked' : ''}">
<td><code>${u.id}</code></td>
<td><code>${u.globalId}</code></td>
<td class="user-name">${u.name}</td>
<td class="email">${u.email}</td>
<td>${u.active ? badge('active', 'ok') : badge('inactive', 'off')}</td>
<td>${u.blocked ? badge('blocked', 'danger') : 'no'}</td>
<td>${yesNo(u.emailMuted)}</td>
<td class="num">${u.sessions}</td>
<td>${formatTime(u.lastSession, true)}</td>
<td>${formatTime(u.joined, true)}</td>
<td>${u.region}</td>
<td>${u.isForwarding ? badge('on', 'info') : badge('off', 'off')}</td>
<td class="sticky-actions">${rowActions(app, u, csrf, filters)}</td>
</tr>`,
  );
  const next = data.nextCursor ? appPath(app.id, `/users${usersQuery({ search: filters.search, status: filters.status, cursor: data.nextCursor })}`) : null;
  const first = filters.cursor ? appPath(app.id, `/users${usersQuery({ search: filters.search, status: filters.status })}`) : null;
  return portalPage(
    `Users · ${app.name}`,
    developer,
    csrf,
    html`${appHeader(app, 'users')}
${notice(message)}
<form method="get" action="${appPath(app.id, '/users')}" class="filters" role="search">
<div><label for="search">Search</label><input type="search" id="search" name="search" maxlength="320" value="${filters.search ?? ''}" placeholder="Global ID, name or email (starts with)"></div>
<div><label for="status">Status</label><select id="status" name="status">${STATUS_OPTIONS.map(([value, label]) => html`<option value="${value}"${(filters.status ?? '') === value ? html` selected` : ''}>${label}</option>`)}</select></div>
<div class="filter-buttons"><button type="submit">Apply</button>${filters.search || filters.status ? html`<a class="small-link" href="${appPath(app.id, '/users')}">Clear</a>` : ''}</div>
</form>
<p class="muted" id="users-total">${data.totalIsLowerBound ? `${data.total.toLocaleString('en')}+` : data.total} ${data.total === 1 && !data.totalIsLowerBound ? 'user' : 'users'}${filters.search || filters.status ? ' match' : ''}${filters.cursor ? ' · later page' : ''}</p>
${
  data.users.length
    ? html`<div class="table-wrap"><table id="users-table" class="dense">
<caption class="sr-only">Users of ${app.name}</caption>
<thead><tr><th scope="col">ID</th><th scope="col">Global ID</th><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Active</th><th scope="col">Blocked</th><th scope="col">Email muted</th><th scope="col">Sessions</th><th scope="col">Last session</th><th scope="col">Joined</th><th scope="col">Region</th><th scope="col">Forwarding</th><th scope="col" class="sticky-actions">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
    : html`<div class="panel empty"><p>${filters.search || filters.status ? 'No users match.' : 'No users yet.'}</p><p class="muted">Users appear here after they sign in to ${app.name} with LoginSign.</p></div>`
}
<nav class="pager" aria-label="Pages">${first ? html`<a href="${first}">« First page</a>` : ''}${next ? html`<a href="${next}" rel="next" id="next-page">Next page »</a>` : ''}</nav>`,
  );
}

export function userDetailPage(
  developer: PortalDeveloper,
  csrf: string,
  app: PortalApp,
  user: PortalUser,
  filters: UserFilters,
  opts: { message?: string; error?: string },
): string {
  const base = appPath(app.id, `/users/${encodeURIComponent(user.id)}`);
  const shared = user.email === '-' ? '' : user.email;
  return portalPage(
    `${user.name} · ${app.name}`,
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> › <a href="${appPath(app.id)}">${app.name}</a> › <a href="${appPath(app.id, `/users${usersQuery(filters)}`)}">Users</a> ›</p>
<h1 class="user-name">${user.name}</h1>
${notice(opts.message)}${notice(opts.error, 'error')}
<div class="grid">
<section class="panel">
<h2>Details</h2>
<dl class="kv">
<dt>Connection ID</dt><dd><code>${user.id}</code></dd>
<dt>Global ID</dt><dd><code>${user.globalId}</code></dd>
<dt>Email shared with the app</dt><dd class="break">${user.email === '-' ? html`<span class="muted">none</span>` : user.email}</dd>
<dt>Active</dt><dd>${user.active ? badge('active', 'ok') : badge('inactive', 'off')}</dd>
<dt>Blocked</dt><dd>${user.blocked ? badge('blocked', 'danger') : 'no'}</dd>
<dt>Email forwarding</dt><dd>${user.isForwarding ? 'on' : 'off'}</dd>
<dt>Email muted by the user</dt><dd>${yesNo(user.emailMuted)}</dd>
<dt>Sessions</dt><dd>${user.sessions}</dd>
<dt>Last session</dt><dd>${formatTime(user.lastSession)}</dd>
<dt>Joined</dt><dd>${formatTime(user.joined)}</dd>
<dt>Region</dt><dd>${user.region}</dd>
</dl>
<div class="row">
<form method="post" action="${base}/block" class="inline">${csrfField(csrf)}${filterFields(filters)}<input type="hidden" name="from" value="detail"><input type="hidden" name="blocked" value="${user.blocked ? 'false' : 'true'}"><button type="submit" class="${user.blocked ? 'secondary' : 'danger-outline'}">${user.blocked ? 'Unblock user' : 'Block user'}</button></form>
<form method="post" action="${base}/forwarding" class="inline">${csrfField(csrf)}${filterFields(filters)}<input type="hidden" name="from" value="detail"><input type="hidden" name="isForwarding" value="${user.isForwarding ? 'false' : 'true'}"><button type="submit" class="secondary">Turn forwarding ${user.isForwarding ? 'off' : 'on'}</button></form>
</div>
</section>
<div>
<section class="panel">
<h2>Shared address</h2>
<form method="post" action="${base}/email">
${csrfField(csrf)}${filterFields(filters)}
<label for="appEmail">Address the app sees</label>
<input type="email" id="appEmail" name="appEmail" maxlength="320" value="${shared}" aria-describedby="appEmail-hint" spellcheck="false">
<p class="muted" id="appEmail-hint">The user's relay address applies at once (unless they chose not to share an email). Any other address is only asked for: the user sees the request in their account center, and the app sees the address once they allow it. Leave empty to stop sharing an email.</p>
<div class="row"><button type="submit">Save address</button><button type="submit" name="stop" value="1" class="secondary">Stop sharing</button></div>
</form>
</section>
<section class="panel danger-zone">
<h2>Close account</h2>
<p class="muted">Deletes this user's connection to ${app.name}: tokens stop working and a <code>user_account_deleted</code> webhook is sent.</p>
<a class="button danger" href="${base}/close${usersQuery(filters)}">Close account…</a>
</section>
</div>
</div>`,
  );
}

export function closeUserPage(developer: PortalDeveloper, csrf: string, app: PortalApp, user: PortalUser, filters: UserFilters): string {
  const base = appPath(app.id, `/users/${encodeURIComponent(user.id)}`);
  return portalPage(
    `Close ${user.name}'s account`,
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> › <a href="${appPath(app.id)}">${app.name}</a> › <a href="${appPath(app.id, `/users${usersQuery(filters)}`)}">Users</a> ›</p>
<section class="panel danger-zone narrow">
<h1>Close the account of <span class="user-name">${user.name}</span> (<code>${user.globalId}</code>)?</h1>
<p>The connection to ${app.name} is deleted, its tokens stop working at once and your webhook receives <code>user_account_deleted</code>. If this person signs in again later, they start as a new user with a new ID.</p>
<form method="post" action="${base}/close">
${csrfField(csrf)}${filterFields(filters)}
<div class="row"><button type="submit" class="danger">Close account</button><a class="button secondary-link" href="${base}${usersQuery(filters)}">Cancel</a></div>
</form>
</section>`,
  );
}
