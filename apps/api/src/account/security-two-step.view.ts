import type { TotpSetup } from '@app/identity';
import { html, SafeHtml } from '../shared/html';
import { csrfField } from '../shared/layout';
import { AccountChrome, accountPage } from './account-center.view';

export interface TwoStepSectionView {
  csrf: string;
  /** The account's username for password managers (a user's Global ID, a developer's email). */
  globalId: string;
  /** Where the forms post (`/account/security/two-step` for users, `/developer/security/two-step` for developers). */
  base?: string;
  enabled: boolean;
  unusedRecoveryCodes: number;
}

const USER_BASE = '/account/security/two-step';

/** The two-step part of /account/security: set up (password again), or turn off (password and a code). */
export function twoStepSection(v: TwoStepSectionView): SafeHtml {
  const base = v.base ?? USER_BASE;
  if (v.enabled) {
    return html`<section class="panel" aria-labelledby="two-step-title" id="two-step">
      <h2 id="two-step-title">Two-step sign-in</h2>
      <p><strong>On.</strong> Signing in asks for a code from your authenticator app. Recovery codes left: ${v.unusedRecoveryCodes}.</p>
      <form method="post" action="${base}/disable" novalidate>
        ${csrfField(v.csrf)}
        <input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden />
        <label for="two-step-off-password">Current password</label>
        <input type="password" id="two-step-off-password" name="password" autocomplete="current-password" required />
        <label for="two-step-off-code">Code from your app (or a recovery code)</label>
        <input type="text" id="two-step-off-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required />
        <button type="submit" class="secondary">Turn off two-step sign-in</button>
      </form>
    </section>`;
  }
  return html`<section class="panel" aria-labelledby="two-step-title" id="two-step">
    <h2 id="two-step-title">Two-step sign-in</h2>
    <p class="muted">Off. With an authenticator app, signing in also asks for a 6-digit code from your phone.</p>
    <form method="post" action="${base}/setup" novalidate>
      ${csrfField(v.csrf)}
      <input type="text" name="username" autocomplete="username" value="${v.globalId}" hidden />
      <label for="two-step-password">Current password</label>
      <input type="password" id="two-step-password" name="password" autocomplete="current-password" required />
      <button type="submit">Set up an authenticator app</button>
    </form>
  </section>`;
}

/** A page that shows only the two-step section (after a rejected form on it). */
export function twoStepPage(v: AccountChrome, section: TwoStepSectionView): string {
  return accountPage('Two-step sign-in', 'security', v, twoStepSection(section));
}

/** Set-up: the QR code (an inline SVG rendered by the server), the secret as text, and the code to confirm. */
export function twoStepSetupPage(v: AccountChrome, setup: TotpSetup): string {
  return accountPage('Set up an authenticator app', 'security', v, twoStepSetupBody(v.csrf, setup, USER_BASE));
}

/** The set-up steps, for either audience's page. */
export function twoStepSetupBody(csrf: string, setup: TotpSetup, base: string): SafeHtml {
  return html`<h1>Set up an authenticator app</h1>
    <section class="panel" aria-labelledby="setup-title">
      <h2 id="setup-title">1. Scan the QR code</h2>
      <div class="qr" role="img" aria-label="QR code of the authenticator app secret">${new SafeHtml(setup.qrSvg)}</div>
      <p>Or type this key into the app: <code id="totp-secret">${setup.secret}</code></p>
      <h2>2. Enter the code the app shows</h2>
      <form method="post" action="${base}/confirm" novalidate>
        ${csrfField(csrf)}
        <label for="totp-code">6-digit code</label>
        <input type="text" id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required />
        <button type="submit">Turn on two-step sign-in</button>
      </form>
    </section>`;
}

/** The recovery codes, shown this once. */
export function recoveryCodesPage(v: AccountChrome, codes: string[]): string {
  return accountPage('Your recovery codes', 'security', v, recoveryCodesBody(codes, '/account/security'));
}

/** The recovery codes, for either audience's page; `done` is the security page to go back to. */
export function recoveryCodesBody(codes: string[], done: string): SafeHtml {
  return html`<h1>Two-step sign-in is on</h1>
    <section class="panel" aria-labelledby="codes-title">
      <h2 id="codes-title">Your recovery codes</h2>
      <p>Each code signs you in once if you lose your phone. Keep them somewhere safe: they are not shown again.</p>
      <ul class="recovery-codes" id="recovery-codes">
        ${codes.map((c) => html`<li><code>${c}</code></li>`)}
      </ul>
      <a class="button" href="${done}">Done</a>
    </section>`;
}
