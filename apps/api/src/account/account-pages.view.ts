import { html, SafeHtml } from '../shared/html';
import { csrfField, newAccountFields, page } from '../shared/layout';

/** What a re-rendered form keeps: never the password. */
export interface FormState {
  csrf: string;
  returnTo: string;
  name?: string;
  email?: string;
  region?: string;
  error?: string;
}

function linkWithReturnTo(path: string, returnTo: string): string {
  return returnTo === '/account' ? path : `${path}?${new URLSearchParams({ return_to: returnTo })}`;
}

function errorBox(message?: string): SafeHtml {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html``;
}

export function signUpPage(state: FormState): string {
  return page({
    title: 'Create your LoginSign account',
    body: html`<h1>Create your LoginSign account</h1>
${errorBox(state.error)}
<form method="post" action="/signup" novalidate>
${csrfField(state.csrf)}
<input type="hidden" name="return_to" value="${state.returnTo}">
${newAccountFields(state)}
<label for="region">Country or region</label>
<input type="text" id="region" name="region" autocomplete="country-name" maxlength="100" required value="${state.region ?? ''}">
<button type="submit">Create account</button>
</form>
<p class="muted">Already have an account? <a href="${linkWithReturnTo('/login', state.returnTo)}">Sign in</a></p>`,
  });
}

export function loginPage(state: FormState): string {
  return page({
    title: 'Sign in with LoginSign',
    body: html`<h1>Sign in with LoginSign</h1>
${errorBox(state.error)}
<form method="post" action="/login" novalidate>
${csrfField(state.csrf)}
<input type="hidden" name="return_to" value="${state.returnTo}">
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email webauthn" maxlength="320" required value="${state.email ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="notice notice-error" role="alert" id="passkey-status" hidden></p>
<button type="button" class="secondary" id="passkey-signin" data-return-to="${state.returnTo}" hidden>Sign in with a passkey</button>
<script src="/assets/webauthn.js" defer></script>
<script src="/assets/passkeys.js" defer></script>
<p class="muted"><a href="/password/forgot">Forgot password?</a></p>
<p class="muted">New to LoginSign? <a href="${linkWithReturnTo('/signup', state.returnTo)}">Create an account</a></p>`,
  });
}
