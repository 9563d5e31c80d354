import { html } from '../shared/html';
import { csrfField, page } from '../shared/layout';

export interface SecondStepView {
  csrf: string;
  /** Where the code goes (`/login/two-step` for users, `/developer/login/two-step` for developers). */
  action?: string;
  error?: string;
}

/** The second step of /login: the authenticator app's code, or a recovery code. */
export function secondStepPage(v: SecondStepView): string {
  return page({
    title: 'Two-step sign-in',
    body: html`<h1>Two-step sign-in</h1>
      ${v.error ? html`<p class="error" role="alert" id="form-error">${v.error}</p>` : ''}
      <form method="post" action="${v.action ?? '/login/two-step'}" novalidate>
        ${csrfField(v.csrf)}
        <label for="code">Code from your authenticator app</label>
        <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required autofocus aria-describedby="code-hint" />
        <p class="muted" id="code-hint">Enter the 6-digit code, or one of your recovery codes if you cannot use the app.</p>
        <button type="submit">Continue</button>
      </form>
      <p class="muted"><a href="${v.action === '/developer/login/two-step' ? '/developer/login' : '/login'}">Start over</a></p>`,
  });
}
