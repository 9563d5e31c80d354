import { html } from '../shared/html';
import { csrfField, page } from '../shared/layout';

export interface ConsentView {
  appName: string;
  logoUrl: string | null;
  userName: string;
  scopes: string[];
  /** Verified addresses the user may share instead of the relay address. */
  emails: string[];
  relayDomain: string;
  /** The authorize parameters, carried through hidden fields. */
  params: Record<string, string>;
  csrf: string;
  error?: string;
}

const SCOPE_TEXT: Record<string, string> = {
  profile: 'Your name and profile picture',
  email: 'An email address (your choice below)',
  offline_access: 'Offline access: the app stays signed in and can read this while you are away',
};

export function consentPage(v: ConsentView): string {
  const hidden = Object.entries(v.params).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  const emailChoice = v.scopes.includes('email')
    ? html`<fieldset>
<legend>Which email should ${v.appName} see?</legend>
<label><input type="radio" name="share" value="relay" checked> Hide my email <span class="muted">(a private relay address @${v.relayDomain} that forwards to you)</span></label>
${v.emails.map((email) => html`<label><input type="radio" name="share" value="${email}"> Share ${email}</label>`)}
<label><input type="radio" name="share" value="none"> Don't share an email</label>
</fieldset>`
    : html`<input type="hidden" name="share" value="relay">`;
  return page({
    title: `Sign in to ${v.appName}`,
    body: html`
${v.logoUrl ? html`<img class="logo" src="${v.logoUrl}" alt="" width="48" height="48">` : ''}
<h1>Sign in to ${v.appName} with LoginSign</h1>
<p>Signed in as <strong>${v.userName}</strong>.</p>
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${v.appName} will receive:</p>
<ul>
<li>Your LoginSign Global ID</li>
${v.scopes.filter((s) => Object.hasOwn(SCOPE_TEXT, s)).map((s) => html`<li>${SCOPE_TEXT[s]}</li>`)}
</ul>
<form method="post" action="/oauth/authorize/decision">
${csrfField(v.csrf)}
${hidden}
${emailChoice}
<div class="row">
<button type="submit" name="decision" value="allow">Continue</button>
<button type="submit" name="decision" value="deny" class="secondary">Cancel</button>
</div>
</form>`,
  });
}
