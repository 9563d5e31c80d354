import { html } from '../shared/html';
import { csrfField, page } from '../shared/layout';

/** After RP-initiated logout when there is nowhere (allowed) to send the user back to. */
export function signedOutPage(note?: string): string {
  return page({
    title: 'Signed out',
    body: html`<h1>You are signed out of LoginSign</h1>
${note ? html`<p class="muted">${note}</p>` : ''}
<p><a href="/login">Sign in again</a></p>`,
  });
}

/** A logout request we cannot attribute to an app: the user confirms (no logout CSRF). */
export function confirmLogoutPage(csrf: string): string {
  return page({
    title: 'Sign out',
    body: html`<h1>Sign out of LoginSign?</h1>
<form method="post" action="/logout">
${csrfField(csrf)}
<div class="row"><button type="submit">Sign out</button></div>
</form>`,
  });
}
