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
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · LoginSign</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
<header class="top"><a class="brand" href="/">LoginSign</a></header>
<main class="${wide ? 'wide' : 'card'}">
${body}
</main>
</body>
</html>`.value;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** Name, email and a new password (with the password rule's hint): the fields every sign-up form starts with. */
export function newAccountFields(fields: { name?: string; email?: string }): SafeHtml {
  return html`<label for="name">Name</label>
<input type="text" id="name" name="name" autocomplete="name" maxlength="200" required value="${fields.name ?? ''}">
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="email" maxlength="320" required value="${fields.email ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="8" maxlength="128" required aria-describedby="password-hint">
<p class="muted" id="password-hint">8 to 128 characters, not a common password.</p>`;
}

export function errorPage(title: string, message: string): string {
  return page({ title, body: html`<h1>${title}</h1><p class="error">${message}</p>` });
}
