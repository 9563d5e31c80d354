// Reading LoginSign's (and the peer's) authorization answers without a browser.

/** Where the benches' clients are sent back to: never followed, the 303 Location is only parsed. */
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';

/** The code of a 303 to REDIRECT_URI (checks `state` when given), or null. */
export function codeFrom(location: string | undefined | null, state?: string): string | null {
  if (!location || !location.startsWith(REDIRECT_URI)) return null;
  const params = new URL(location).searchParams;
  if (state !== undefined && params.get('state') !== state) return null;
  return params.get('code');
}

/** The hidden fields of a form page (the consent form's CSRF token and request parameters). */
export function hiddenInputs(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of html.match(/<input\b[^>]*>/gi) ?? []) {
    const name = /\bname="([^"]*)"/.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/.exec(tag)?.[1];
    if (name && value !== undefined && /type="hidden"/.test(tag)) {
      out[name] = value
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    }
  }
  return out;
}
