import { html, SafeHtml } from './html';
import { csrfField, page } from './layout';

/** The forgotten-password pages of one kind of account (end users at `/password`, developers at `/developer/password`). */
export interface ResetPages {
  /** `''` or `/developer`. */
  base: string;
  /** Who the account is, in the page title ("LoginSign" or "Developer Portal"). */
  product: string;
}

/** The one answer of a request, for every address. */
export const RESET_REQUESTED = 'If an account uses this address, a link to reset its password is on its way. It works for 1 hour.';

function box(message: string | undefined, kind: 'error' | 'ok'): SafeHtml {
  if (!message) return html``;
  return kind === 'error' ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html`<p class="notice notice-ok" role="status" id="form-notice">${message}</p>`;
}

export function forgotPasswordPage(p: ResetPages, state: { csrf: string; email?: string; error?: string; done?: boolean }): string {
  return page({
    title: `Forgot your ${p.product} password?`,
    body: html`<h1>Forgot your password?</h1>
      ${box(state.error, 'error')} ${box(state.done ? RESET_REQUESTED : undefined, 'ok')}
      <p class="muted">Enter the address of your account; we mail you a link to choose a new password.</p>
      <form method="post" action="${p.base}/password/forgot" novalidate>
        ${csrfField(state.csrf)}
        <label for="email">Email</label>
        <input type="email" id="email" name="email" autocomplete="email" maxlength="320" required value="${state.email ?? ''}" />
        <button type="submit">Send the link</button>
      </form>
      <p class="muted"><a href="${p.base}/login">Back to sign-in</a></p>`,
  });
}

export function resetPasswordPage(p: ResetPages, state: { csrf: string; token: string; email: string; error?: string }): string {
  return page({
    title: `Choose a new ${p.product} password`,
    body: html`<h1>Choose a new password</h1>
      ${box(state.error, 'error')}
      <p>For the account that uses <strong>${state.email}</strong>. Every session of the account is signed out and apps have to ask you to sign in again.</p>
      <form method="post" action="${p.base}/password/reset" novalidate>
        ${csrfField(state.csrf)}
        <input type="hidden" name="token" value="${state.token}" />
        <input type="text" name="username" autocomplete="username" value="${state.email}" hidden readonly />
        <label for="password">New password</label>
        <input type="password" id="password" name="password" autocomplete="new-password" minlength="8" maxlength="200" required aria-describedby="password-hint" />
        <p class="muted" id="password-hint">At least 8 characters.</p>
        <button type="submit">Set the new password</button>
      </form>`,
  });
}

export function resetLinkUnusablePage(p: ResetPages): string {
  return page({
    title: 'This reset link does not work',
    body: html`<h1>This reset link does not work</h1>
      <p>It is invalid, has expired, was replaced by a newer one or was already used.</p>
      <p><a href="${p.base}/password/forgot">Ask for a new link</a></p>`,
  });
}
