/**
 * Browser-like form helpers for e2e tests: a cookie jar, hidden-field
 * extraction and form POSTs that never follow redirects (so tests can check
 * the 303 and its Location).
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Stores Set-Cookie headers; an expired/emptied cookie is removed. */
  store(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v = ''] = a.trim().split('=');
        return (k.toLowerCase() === 'max-age' && Number(v) <= 0) || (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now());
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return this;
  }

  set(name: string, value: string): this {
    this.cookies.set(name, value);
    return this;
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  delete(name: string): this {
    this.cookies.delete(name);
    return this;
  }

  /** The `Cookie` request header value. */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The value of `<input ... name="NAME" ... value="...">` (first match), HTML-decoded. */
export function inputValue(html: string, name: string): string | undefined {
  for (const tag of html.match(/<input\b[^>]*>/gi) ?? []) {
    if (new RegExp(`\\bname="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`).test(tag)) {
      const value = /\bvalue="([^"]*)"/.exec(tag);
      return value ? decodeEntities(value[1]) : '';
    }
  }
  return undefined;
}

export function csrfToken(html: string): string {
  const token = inputValue(html, '_csrf');
  if (!token) throw new Error('No _csrf field in the page');
  return token;
}

export interface PageResult {
  res: Response;
  html: string;
  /** The page's `_csrf` token, when it has one. */
  csrf?: string;
}

/** GET a page with the jar's cookies (stores new ones). */
export async function getPage(baseUrl: string, path: string, jar: CookieJar, headers: Record<string, string> = {}): Promise<PageResult> {
  const res = await fetch(`${baseUrl}${path}`, { redirect: 'manual', headers: { cookie: jar.header(), ...headers } });
  jar.store(res);
  const html = await res.text();
  return { res, html, csrf: inputValue(html, '_csrf') };
}

/** POST a form (application/x-www-form-urlencoded) as it is, with the jar's cookies. */
export async function postForm(
  baseUrl: string,
  path: string,
  fields: Record<string, string> | [string, string][],
  jar: CookieJar,
  headers: Record<string, string> = {},
): Promise<Response> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  jar.store(res);
  return res;
}

/**
 * GET `pagePath`, take its `_csrf`, then POST `fields` plus that token to
 * `actionPath` (defaults to the page's path without its query).
 */
export async function submitForm(baseUrl: string, pagePath: string, fields: Record<string, string>, jar: CookieJar, actionPath = pagePath.split('?')[0]): Promise<Response> {
  const page = await getPage(baseUrl, pagePath, jar);
  if (!page.csrf) throw new Error(`No _csrf field on ${pagePath} (status ${page.res.status})`);
  return postForm(baseUrl, actionPath, { _csrf: page.csrf, ...fields }, jar);
}
