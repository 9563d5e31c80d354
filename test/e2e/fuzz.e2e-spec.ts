import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RouteOptions } from 'fastify';
import { ERROR_STATUS } from '@app/common';
import { dropDatabase } from '@app/database';
import { createApi } from '../../apps/api/src/bootstrap';
import { isJsonPath } from '../../apps/api/src/shared/error.filter';
import { signUpUser } from '../support/accounts';
import { testConfig } from '../support/harness';
import { codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';

/**
 * Property-based fuzzing of every route of the real HTTP server: generated
 * path parameters, query strings and JSON (and form) bodies, with wrong
 * types, ill-formed UTF-16, deep nesting, huge strings, control and
 * ignorable characters and text in every script. Whatever is sent: no 5xx,
 * errors in the `{error, error_description}` shape under /api, /oauth,
 * /health (HTML pages elsewhere), nothing of the framework or the database
 * in the answer, and no row written by a refused request.
 *
 * Deterministic: a fixed seed (FUZZ_SEED to change it) and a modest number
 * of runs per property (FUZZ_RUNS to raise it for a longer run).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const TIMEOUT_MS = Math.max(120_000, RUNS * 2_000);

interface Route {
  method: string;
  url: string;
}

interface Fixture {
  baseUrl: string;
  appId: string;
  cookies: string;
  bearer: string;
  clientId: string;
  clientSecret: string;
  /** A valid `_csrf` form field for the `csrf` cookie in `cookies`. */
  csrf: string;
}

/** Internals that must never reach a client. */
const INTERNALS =
  /FST_ERR|"statusCode"|node_modules|\bat [\w.<>]+ \(|ER_[A-Z_]{4,}|QueryFailedError|RangeError|TypeError|URIError|SyntaxError|Maximum call stack|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.*\bSET\b/;

// ---- generated text -------------------------------------------------------

const codePointIn = (from: number, to: number) => fc.integer({ min: from, max: to }).map((c) => String.fromCodePoint(c));

/** Characters of many scripts: Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai, Hangul, CJK, emoji, combining marks. */
const scriptChar = fc.oneof(
  codePointIn(0x20, 0x7e),
  codePointIn(0xc0, 0x24f),
  codePointIn(0x370, 0x3ff),
  codePointIn(0x400, 0x4ff),
  codePointIn(0x5d0, 0x5ea),
  codePointIn(0x620, 0x64a),
  codePointIn(0x900, 0x97f),
  codePointIn(0xe01, 0xe5b),
  codePointIn(0xac00, 0xd7a3),
  codePointIn(0x4e00, 0x9fff),
  codePointIn(0x1f300, 0x1faff),
  codePointIn(0x300, 0x36f),
);

/** Controls, format and other invisible or ignorable characters. */
const oddChar = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u0008',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2060',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\r\n',
  '\t',
  '%',
  '\\',
  '"',
  "'",
  '<',
  '>',
  '&',
  '/',
  '..',
  '*',
  '?',
  '#',
);

/** Lone surrogates: ill-formed UTF-16. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

const text = fc
  .array(fc.oneof({ weight: 5, arbitrary: scriptChar }, { weight: 2, arbitrary: oddChar }, { weight: 1, arbitrary: loneSurrogate }), { maxLength: 24 })
  .map((parts) => parts.join(''));

const hugeText = fc.tuple(fc.integer({ min: 1_000, max: 120_000 }), scriptChar).map(([n, ch]) => ch.repeat(Math.ceil(n / ch.length)));

const emailLike = fc
  .tuple(text, fc.constantFrom('', '\u0000', '\u200b', '\ufeff', ' ', 'É'), fc.constantFrom('example.com', 'b\u00fccher.de', 'x', ''))
  .map(([local, odd, domain]) => `${local || 'a'}${odd}@${domain}`);

/** JSON text kept as is when the body is written (nesting too deep for JSON.stringify's own recursion). */
class RawJson {
  constructor(readonly text: string) {}
}

/** Deep nesting, as objects or arrays, up to 10,000 levels. */
const deep = fc
  .tuple(fc.integer({ min: 20, max: 10_000 }), fc.boolean())
  .map(([depth, asArray]) => new RawJson(asArray ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** JSON text of a generated value (its RawJson parts verbatim). */
function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Any JSON value of a wrong type, a string of any kind, or a deep one. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: hugeText },
  { weight: 1, arbitrary: emailLike },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(''), fc.constant(-0)) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 3 }) },
  { weight: 2, arbitrary: deep },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Field names the endpoints read, and some they do not. */
const FIELDS = [
  'name',
  'email',
  'password',
  'region',
  'image',
  'redirectUris',
  'webhookUrl',
  'logoUrl',
  'isForwarding',
  'appEmail',
  'blocked',
  'grant_type',
  'code',
  'code_verifier',
  'client_id',
  'client_secret',
  'redirect_uri',
  'refresh_token',
  'token',
  'scope',
  'state',
  'currentPassword',
  'newPassword',
  'confirm',
  'share',
  'decision',
  '_csrf',
  '__proto__',
  'constructor',
];
const fieldName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: text });

/** Well-formed bodies of the main endpoints, to be spoiled one field at a time. */
const BASES: Record<string, Record<string, unknown>> = {
  user: { name: 'Fuzz User', email: 'fuzz@example.com', password: 'correct horse battery staple', region: 'Germany' },
  app: { name: 'Fuzz App', redirectUris: ['https://fuzz.example/cb'], webhookUrl: null, logoUrl: null },
  connection: { isForwarding: true, appEmail: '', blocked: false },
};

const jsonBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...Object.values(BASES)), fieldName, anyValue).map(([base, field, value]) => ({ ...base, [field]: value })) },
  { weight: 2, arbitrary: fc.dictionary(fieldName, anyValue, { maxKeys: 5 }) },
  { weight: 1, arbitrary: anyValue },
);

// ---- encoding what was generated ------------------------------------------

/** Percent-encodes the UTF-8 of `value` (a lone surrogate becomes U+FFFD's bytes, as in any client). */
function encode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** Path segments as generated text, or raw bytes that are not valid percent-encoding. */
const pathValue = fc.oneof(
  { weight: 4, arbitrary: text.map(encode) },
  { weight: 1, arbitrary: hugeText.map((s) => encode(s.slice(0, 300))) },
  { weight: 1, arbitrary: fc.constantFrom('%FF', '%', '%%', '%E0%A4%A', '%00', '%2F', '..', '%2e%2e', '%C3%A9', '%F0%9F%98%80', 'a%0Ab', '') },
);

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('search', 'limit', 'cursor', 'status', 'done', 'client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'return_to', 'token'),
        text,
      ),
      fc.oneof(
        text,
        hugeText.map((s) => s.slice(0, 800)),
        fc.constantFrom('%FF', '%', '1e9', '-1', '0', '[]'),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${/^%|^\[/.test(v) ? v : encode(v)}`).join('&'));

/** Mostly the credentials the route expects (to get past authentication), sometimes none. */
const withCredentials = fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

/** A body for a route whose path or query is being fuzzed: empty, or one the endpoint accepts. */
const plainBody = fc.constantFrom('{}', ...Object.values(BASES).map((b) => JSON.stringify(b)));

// ---- the properties -------------------------------------------------------

describe('fuzzing every route with generated input', () => {
  let app: NestFastifyApplication;
  let databaseUrl: string;
  let fx: Fixture;
  const routes: Route[] = [];
  let countRows: () => Promise<Record<string, number>>;

  beforeAll(async () => {
    const config = await testConfig();
    databaseUrl = config.databaseUrl;
    app = await createApi(config);
    const fastify = app.getHttpAdapter().getInstance();
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, url: route.url });
      }
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    (config as { publicUrl: string }).publicUrl = baseUrl;

    const client = await createClientApp(baseUrl);
    const user = await signUpUser(baseUrl, { name: 'Fuzz Target' });
    const { code, verifier } = await codeFor(baseUrl, client, user);
    const { body } = await exchangeCode(baseUrl, client, { code, code_verifier: verifier });
    expect((await currentUser(baseUrl, body.access_token)).res.status).toBe(200);
    // A form token and its cookie, so generated forms get past the CSRF check to validation.
    const page = await fetch(`${baseUrl}/developer/login`);
    const csrfCookie = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => /csrf/.test(c.split('=')[0]));
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    if (!csrfCookie || !csrf) throw new Error('no CSRF token on /developer/login');
    fx = {
      baseUrl,
      appId: client.id,
      cookies: `${user.cookie}; ${client.developerCookie}; ${csrfCookie}`,
      bearer: body.access_token,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      csrf,
    };

    const db = app.get(DataSource);
    const tables: { name: string }[] = await db.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'migrations'`);
    const sql = `SELECT ${tables.map((t) => `(SELECT COUNT(*) FROM \`${t.name}\`) AS \`${t.name}\``).join(', ')}`;
    countRows = async () => {
      const [row] = await db.query<Record<string, string | number>[]>(sql);
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
    };
    expect(routes.length).toBeGreaterThan(40);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  /** Routes that end the fixture's sessions or change its credentials when they succeed. */
  const endsSession = (route: Route) => /logout|rotate|\/delete|password/.test(route.url);

  /**
   * The route's URL with its `:param`s replaced by generated values; the
   * fixture's own application id stands in for `:appId` when another
   * (generated) parameter follows it or the route only reads, so nothing of
   * the fixture is deleted.
   */
  function fill(route: Route, values: string[]): string {
    const names = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
    let i = 0;
    return route.url.replace(/:(\w+)/g, (_, name: string) => {
      const value = values[i % Math.max(values.length, 1)] ?? '';
      const last = i++ === names.length - 1;
      const safe = !last || route.method === 'GET' || (route.method !== 'DELETE' && !endsSession(route) && !/close|revoke|remove/.test(route.url));
      return name === 'appId' && safe ? fx.appId : value;
    });
  }

  /** The credentials the route expects: bearer token, client authentication, or the session cookies. */
  function headersFor(route: Route, credentials: boolean): Record<string, string> {
    const headers: Record<string, string> = { origin: fx.baseUrl };
    if (!credentials || endsSession(route)) return headers;
    if (/^\/(api\/user|oauth\/userinfo)/.test(route.url)) headers.authorization = `Bearer ${fx.bearer}`;
    else if (/^\/oauth\/(token|revoke|introspect)/.test(route.url)) headers.authorization = `Basic ${Buffer.from(`${fx.clientId}:${fx.clientSecret}`).toString('base64')}`;
    else headers.cookie = fx.cookies;
    return headers;
  }

  /** Statuses seen by the running property: it must have reached both refusals and successes. */
  let seen = new Set<number>();
  const expectVaried = () => {
    const statuses = [...seen];
    expect({ statuses, refused: statuses.some((s) => s === 400), accepted: statuses.some((s) => s < 400) }).toEqual({ statuses, refused: true, accepted: true });
    seen = new Set();
  };

  /** Sends one request and checks every rule on its answer; returns the rows written when it was refused. */
  async function check(method: string, path: string, headers: Record<string, string>, body?: string): Promise<void> {
    const before = await countRows();
    const res = await fetch(`${fx.baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    seen.add(res.status);
    if (process.env.FUZZ_DEBUG) console.log(`${method} ${path.slice(0, 120)} ${res.status} ${text.slice(0, 120)}`);
    const where = `${method} ${path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
    // No worker runs here, so /health/worker is down (503) by design, and readiness may be
    // down on a loaded machine (its checks time out); any other 5xx is a defect.
    const healthDown = /^\/health\/(worker|ready)/.test(path) && res.status === 503;
    expect({ where, serverError: res.status >= 500 && !healthDown }).toEqual({ where, serverError: false });
    // Static files (scripts, styles, the API description and its viewer) legitimately contain words such as
    // `TypeError` or a `statusCode` field; what they answer does not depend on the request, so only the other rules apply.
    const staticFile = /^\/(openapi\.json|docs|assets)(\/|\?|$)/.test(path);
    expect({ where, internals: !staticFile && INTERNALS.test(text) }).toEqual({ where, internals: false });
    expect({ where, requestId: !!res.headers.get('x-request-id'), nosniff: res.headers.get('x-content-type-options') }).toEqual({ where, requestId: true, nosniff: 'nosniff' });
    if (res.status >= 400) {
      if (isJsonPath(path)) {
        expect({ where, type: res.headers.get('content-type') }).toEqual({ where, type: expect.stringMatching(/^application\/json/) as unknown });
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect({ where, keys: Object.keys(parsed).sort() }).toEqual({ where, keys: ['error', 'error_description'] });
        expect({ where, code: parsed.error, known: (parsed.error as string) in ERROR_STATUS }).toEqual({ where, code: parsed.error, known: true });
        expect({ where, description: typeof parsed.error_description }).toEqual({ where, description: 'string' });
      } else {
        expect({ where, type: res.headers.get('content-type') }).toEqual({ where, type: expect.stringMatching(/^(text\/html|application\/json)/) as unknown });
      }
      expect({ where, rows: await countRows() }).toEqual({ where, rows: before });
    }
  }

  const hasBody = (route: Route) => ['POST', 'PATCH', 'PUT', 'DELETE'].includes(route.method);
  /** JSON for the API, a form for pages: the body each route reads, so the fuzzed path or query gets past the media type. */
  const bodyFor = (route: Route, json: string): { headers: Record<string, string>; body?: string } => {
    if (!hasBody(route)) return { headers: {} };
    if (/^\/(api|oauth)\//.test(route.url)) return { headers: { 'content-type': 'application/json' }, body: json };
    return {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(Object.entries(JSON.parse(json) as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString(),
    };
  };

  it(
    'path parameters: any text in any segment',
    async () => {
      const withParams = routes.filter((r) => r.url.includes(':'));
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...withParams),
          fc.array(pathValue, { minLength: 1, maxLength: 3 }),
          withCredentials,
          plainBody,
          async (route, values, credentials, body) => {
            const sent = bodyFor(route, body);
            await check(route.method, fill(route, values), { ...headersFor(route, credentials), ...sent.headers }, sent.body);
          },
        ),
        { seed: SEED, numRuns: RUNS * 2 },
      );
      expectVaried();
    },
    TIMEOUT_MS,
  );

  it(
    'query strings: any names and values on every route',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), queryString, withCredentials, plainBody, async (route, query, credentials, body) => {
          const sent = bodyFor(route, body);
          await check(route.method, `${fill(route, ['x'])}?${query}`, { ...headersFor(route, credentials), ...sent.headers }, sent.body);
        }),
        { seed: SEED + 1, numRuns: RUNS },
      );
      expectVaried();
    },
    TIMEOUT_MS,
  );

  it(
    'JSON bodies: wrong types, odd text, huge strings and deep nesting on every JSON write',
    async () => {
      const writes = routes.filter((r) => hasBody(r) && /^\/(api|oauth)\//.test(r.url));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...writes), jsonBody, withCredentials, async (route, body, credentials) => {
          const headers = { ...headersFor(route, credentials), 'content-type': 'application/json' };
          await check(route.method, fill(route, ['x']), headers, toJson(body));
        }),
        { seed: SEED + 2, numRuns: RUNS * 2 },
      );
      expectVaried();
    },
    TIMEOUT_MS,
  );

  it(
    'form bodies: any fields and values on every form post',
    async () => {
      const posts = routes.filter((r) => r.method === 'POST' && !r.url.startsWith('/api/'));
      const form = fc.array(
        fc.tuple(
          fieldName,
          fc.oneof(
            text,
            emailLike,
            hugeText.map((s) => s.slice(0, 5000)),
          ),
        ),
        { maxLength: 5 },
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...posts), form, withCredentials, async (route, pairs, credentials) => {
          const headers = { ...headersFor(route, credentials), 'content-type': 'application/x-www-form-urlencoded' };
          const fields = credentials ? [['_csrf', fx.csrf], ...pairs] : pairs;
          await check('POST', fill(route, ['x']), headers, fields.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
        }),
        { seed: SEED + 3, numRuns: RUNS },
      );
      expectVaried();
    },
    TIMEOUT_MS,
  );
});
