import type { PasskeyView } from '@app/identity';
import { html, SafeHtml } from '../shared/html';
import { csrfField } from '../shared/layout';
import { when } from './account-center.view';

export interface PasskeysSectionView {
  csrf: string;
  globalId: string;
  passkeys: PasskeyView[];
}

/** The passkeys part of /account/security: the list (name, added, last used), removal (password again), and "Add a passkey" (needs JavaScript). */
export function passkeysSection(v: PasskeysSectionView): SafeHtml {
  return html`<section class="panel" aria-labelledby="passkeys-title" id="passkeys">
    <h2 id="passkeys-title">Passkeys</h2>
    <p class="muted">A passkey signs you in with your device's screen lock or a security key, without a password.</p>
    ${
      v.passkeys.length === 0
        ? html`<p class="muted" id="passkeys-empty">No passkeys yet.</p>`
        : html`<ul class="passkeys" id="passkey-list">
            ${v.passkeys.map(
              (p) =>
                html`<li class="passkey">
                  <strong class="passkey-name">${p.name}</strong>
                  <span class="muted">Added ${when(p.createdAt)} · Last used ${when(p.lastUsedAt)}</span>
                  <form method="post" action="/account/security/passkeys/${String(p.id)}/remove" novalidate>
                    ${csrfField(v.csrf)}
                    <input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden />
                    <label for="passkey-remove-password-${String(p.id)}">Current password</label>
                    <input type="password" id="passkey-remove-password-${String(p.id)}" name="password" autocomplete="current-password" required />
                    <button type="submit" class="secondary">Remove ${p.name}</button>
                  </form>
                </li>`,
            )}
          </ul>`
    }
    <p class="notice notice-error" role="alert" id="passkey-status" hidden></p>
    <form id="passkey-add" hidden novalidate>
      ${csrfField(v.csrf)}
      <input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden />
      <label for="passkey-name">Passkey name</label>
      <input type="text" id="passkey-name" name="name" maxlength="100" required placeholder="e.g. My laptop" />
      <label for="passkey-password">Current password</label>
      <input type="password" id="passkey-password" name="password" autocomplete="current-password" required />
      <button type="submit">Add a passkey</button>
    </form>
    <script src="/assets/webauthn.js" defer></script>
    <script src="/assets/passkeys.js" defer></script>
  </section>`;
}
