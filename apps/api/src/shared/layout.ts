import { html, SafeHtml } from './html';

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Narrow card layout (login, consent) or a wide one (portal). */
  wide?: boolean;
}

export function page({ title, body, wide }: PageOptions): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · LoginSign</title>
        <link rel="stylesheet" href="/assets/style.css" />
      </head>
      <body>
        <header class="top"><a class="brand" href="/">LoginSign</a></header>
        <main class="${wide ? 'wide' : 'card'}">${body}</main>
      </body>
    </html>`.value;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

/** The name, email and new-password fields of a sign-up form (end users and developers alike); a re-render keeps name and email, never the password. */
export function signUpFields(state: { name?: string; email?: string }): SafeHtml {
  return html`<label for="name">Name</label>
    <input type="text" id="name" name="name" autocomplete="name" maxlength="200" required value="${state.name ?? ''}" />
    <label for="email">Email</label>
    <input type="email" id="email" name="email" autocomplete="email" maxlength="320" required value="${state.email ?? ''}" />
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="new-password" minlength="8" maxlength="200" required aria-describedby="password-hint" />
    <p class="muted" id="password-hint">At least 8 characters.</p>`;
}

/** The email and current-password fields of a login form (end users and developers alike); a re-render keeps the email. */
export function loginFields(state: { email?: string }): SafeHtml {
  return html`<label for="email">Email</label>
    <input type="email" id="email" name="email" autocomplete="email" maxlength="320" required value="${state.email ?? ''}" />
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="current-password" required />`;
}

export function errorPage(title: string, message: string): string {
  return page({
    title,
    body: html`<h1>${title}</h1>
      <p class="error">${message}</p>`,
  });
}
