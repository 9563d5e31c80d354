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

export function errorPage(title: string, message: string): string {
  return page({ title, body: html`<h1>${title}</h1><p class="error">${message}</p>` });
}
