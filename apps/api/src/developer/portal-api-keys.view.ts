import { html } from '../shared/html';
import { csrfField } from '../shared/layout';
import { badge, copyable, formatTime, notice, PortalDeveloper, portalPage } from './portal.view';

export interface PortalApiKey {
  id: string;
  name: string;
  createdAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeysPageState {
  /** A key just created: shown this once. */
  created?: { name: string; key: string };
  name?: string;
  expiresInDays?: string;
  error?: string;
  message?: string;
}

function keyStatus(key: PortalApiKey, now: number) {
  if (key.revokedAt) return html`${badge('revoked', 'danger')} <span class="muted">${formatTime(key.revokedAt, true)}</span>`;
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return badge('expired', 'off');
  return badge('active', 'ok');
}

/** The developer's API keys: the list, the create form, revoke buttons; a new key is shown once, above. */
export function apiKeysPage(developer: PortalDeveloper, csrf: string, keys: PortalApiKey[], state: ApiKeysPageState = {}): string {
  const now = Date.now();
  const rows = keys.map(
    (k) =>
      html`<tr data-key-id="${k.id}">
        <td>${k.name}</td>
        <td>${formatTime(k.createdAt, true)}</td>
        <td>${formatTime(k.lastUsedAt, true)}</td>
        <td>${k.expiresAt ? formatTime(k.expiresAt, true) : html`<span class="muted">never</span>`}</td>
        <td>${keyStatus(k, now)}</td>
        <td>
          ${
            k.revokedAt
              ? ''
              : html`<form method="post" action="/developer/api-keys/${encodeURIComponent(k.id)}/revoke" class="inline">
                  ${csrfField(csrf)}<button type="submit" class="secondary small danger">Revoke</button>
                </form>`
          }
        </td>
      </tr>`,
  );
  return portalPage(
    'API keys',
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> ›</p>
      <h1>API keys</h1>
      <p class="muted">
        A key calls the applications API (<code>/api/developer/applications/…</code>) as you, from scripts and CI:
        <code>Authorization: Bearer lsk_…</code>. It cannot sign in to the portal or manage keys.
      </p>
      ${notice(state.message)}${notice(state.error, 'error')}
      ${
        state.created
          ? html`<section class="panel" id="new-key">
              <h2>New key “${state.created.name}”</h2>
              <p>Copy it now: it is not shown again. LoginSign keeps only its hash.</p>
              ${copyable('api-key', state.created.key, true)}
            </section>`
          : ''
      }
      <section class="panel">
        <h2>Create a key</h2>
        <form method="post" action="/developer/api-keys" novalidate>
          ${csrfField(csrf)}
          <label for="name">Name</label>
          <input type="text" id="name" name="name" maxlength="100" required value="${state.name ?? ''}" placeholder="CI deploys" />
          <label for="expiresInDays">Expires after (days, optional)</label>
          <input type="number" id="expiresInDays" name="expiresInDays" min="1" max="3650" step="1" value="${state.expiresInDays ?? ''}" />
          <button type="submit">Create key</button>
        </form>
      </section>
      ${
        keys.length
          ? html`<div class="table-wrap">
              <table id="api-keys-table" class="dense">
                <caption class="sr-only">
                  Your API keys
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
          : html`<div class="panel empty"><p>No API keys yet.</p></div>`
      }`,
  );
}
