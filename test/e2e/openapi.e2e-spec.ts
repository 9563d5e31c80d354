import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { ValidateFunction } from 'ajv';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { dropDatabase } from '@app/database';
import { createApi } from '../../apps/api/src/bootstrap';
import { isJsonPath } from '../../apps/api/src/shared/error.filter';
import { testConfig } from '../support/harness';
import { signUpUser } from '../support/accounts';
import { authorizeAs, callbackParams, ClientApp, codeFor, pkcePair } from '../support/oauth';
import { launchChromium } from '../support/browser';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
const METRICS_TOKEN = `metrics-${randomBytes(8).toString('hex')}`;

/** `/api/x/:id` (Fastify) -> `/api/x/{id}` (OpenAPI). */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document (/openapi.json) and /docs', () => {
  let app: NestFastifyApplication;
  let config: AppConfig;
  let baseUrl: string;
  let doc: OpenAPIObject;
  /** Every route the running Fastify instance registered: `METHOD /path`. */
  const routes = new Set<string>();
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  // The contract's timestamps: ISO 8601 UTC.
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/);
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  const compiled = new Map<string, ValidateFunction>();
  /** Operations answered with each status during the tests: `METHOD path status`. */
  const exercised = new Set<string>();

  beforeAll(async () => {
    config = await testConfig({ METRICS_TOKEN });
    app = await createApi(config);
    const fastify = app.getHttpAdapter().getInstance();
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.add(`${method} ${route.url}`);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    (config as { publicUrl: string }).publicUrl = baseUrl;
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenAPIObject;
  });
  afterAll(async () => {
    await app?.close();
    if (config) await dropDatabase(config.databaseUrl);
  });

  function operation(method: Method, path: string): OperationObject {
    const op = doc.paths[path]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    return op;
  }

  function validator(key: string, schema: SchemaObject): ValidateFunction {
    let fn = compiled.get(key);
    if (!fn) {
      // The schema's refs (#/components/schemas/...) resolve against the document's components.
      fn = ajv.compile({ allOf: [schema], components: doc.components });
      compiled.set(key, fn);
    }
    return fn;
  }

  /** The response must be one the document lists for this operation, and its body must match that answer's schema. */
  async function checked(method: Method, path: string, res: Response): Promise<unknown> {
    const op = operation(method, path);
    const documented = op.responses[String(res.status)] as ResponseObject | undefined;
    if (!documented) throw new Error(`${method.toUpperCase()} ${path} answered ${res.status}, which is not documented (${Object.keys(op.responses).join(', ')})`);
    exercised.add(`${method.toUpperCase()} ${path} ${res.status}`);
    const text = await res.text();
    const content = documented.content;
    if (!content) {
      expect(text).toBe('');
      return undefined;
    }
    const [mediaType, media] = Object.entries(content)[0];
    expect(res.headers.get('content-type')?.split(';')[0]).toBe(mediaType.split(';')[0]);
    const body: unknown = mediaType.startsWith('application/json') ? JSON.parse(text) : text;
    const validate = validator(`${method} ${path} ${res.status} ${mediaType}`, media.schema as SchemaObject);
    if (!validate(body)) {
      throw new Error(`${method.toUpperCase()} ${path} ${res.status}: the body does not match its schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
    }
    if (res.status >= 400) {
      const shared = validator('Error', { $ref: '#/components/schemas/Error' } as SchemaObject);
      expect(shared(body)).toBe(true);
    }
    return body;
  }

  /** Calls `path` (with its parameters filled in) and checks the answer against the document. */
  async function call<T = Record<string, unknown>>(
    method: Method,
    path: string,
    options: { params?: Record<string, string>; query?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<{ status: number; body: T; res: Response }> {
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? ''));
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.raw;
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.json);
    }
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const res = await fetch(`${baseUrl}${url}${options.query ? `?${options.query}` : ''}`, { method: method.toUpperCase(), headers, body });
    const parsed = (await checked(method, path, res.clone())) as T;
    return { status: res.status, body: parsed, res };
  }

  /** A schema of the document by name, for checking request bodies. */
  function requestValidator(method: Method, path: string): ValidateFunction {
    const op = operation(method, path);
    const body = op.requestBody as { content: Record<string, { schema: SchemaObject }> };
    const [mediaType, media] = Object.entries(body.content)[0];
    return validator(`request ${method} ${path} ${mediaType}`, media.schema);
  }

  it('is a valid OpenAPI 3 document (and the validator rejects a broken one)', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    const broken = structuredClone(doc);
    (broken.paths['/api/user'].get!.responses['200'] as ResponseObject).content!['application/json'].schema = { $ref: '#/components/schemas/Nothing' };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });

  it('documents every JSON route the running app has, and no HTML page', () => {
    const jsonRoutes = [...routes]
      .filter((r) => !/^(HEAD|OPTIONS) /.test(r))
      .filter((r) => isJsonPath(r.split(' ')[1]))
      .map((r) => {
        const [method, url] = r.split(' ');
        return `${method} ${openApiPath(url)}`;
      });
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      (['get', 'post', 'put', 'patch', 'delete'] as const).filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(jsonRoutes.length).toBeGreaterThan(30);
    expect(new Set(documented)).toEqual(new Set(jsonRoutes));
    // The pages exist in the app but are not API operations.
    expect(routes.has('GET /developer')).toBe(true);
    expect(documented.some((d) => !isJsonPath(d.split(' ')[1]))).toBe(false);
  });

  it('gives every operation a summary, a success answer and its error answers with the shared error schema', () => {
    const errorRef = '#/components/schemas/Error';
    expect(doc.components!.schemas!.Error).toMatchObject({ required: ['error', 'error_description'], additionalProperties: false });
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        expect([where, typeof op.summary]).toEqual([where, 'string']);
        const statuses = Object.keys(op.responses);
        const errorOnly = where === 'GET /oauth/token';
        expect([where, statuses.some((s) => /^2/.test(s))]).toEqual([where, !errorOnly]);
        expect([where, statuses]).toEqual([where, expect.arrayContaining(['default'])]);
        for (const status of statuses.filter((s) => !/^2/.test(s))) {
          const schema = JSON.stringify((op.responses[status] as ResponseObject).content?.['application/json']?.schema);
          expect([where, status, schema]).toEqual([where, status, expect.stringContaining(errorRef)]);
        }
        // A path parameter names something that may not exist: 404.
        if (path.includes('{')) expect([where, statuses]).toEqual([where, expect.arrayContaining(['404'])]);
      }
    }
    // As they apply: validation, sessions, CSRF, conflicts, size and media type, rate limits.
    expect(Object.keys(operation('post', '/api/developer/applications').responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '415']));
    expect(Object.keys(operation('post', '/api/developer/signup').responses)).toEqual(expect.arrayContaining(['201', '400', '403', '409', '413', '415', '429']));
    expect(Object.keys(operation('post', '/oauth/token').responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
  });

  it('declares the security schemes (bearer, the two session cookies, the developer API key, client Basic) and uses them', () => {
    expect(doc.components!.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      userSession: { type: 'apiKey', in: 'cookie', name: 'ls_session' },
      developerSession: { type: 'apiKey', in: 'cookie', name: 'ls_dev' },
      developerApiKey: { type: 'http', scheme: 'bearer' },
      clientBasic: { type: 'http', scheme: 'basic' },
    });
    expect(operation('get', '/api/user').security).toEqual([{ bearer: [] }]);
    expect(operation('get', '/api/account/me').security).toEqual([{ userSession: [] }]);
    // The applications API takes the session or an API key; the developer's own account endpoints only the session.
    expect(operation('get', '/api/developer/applications/{appId}/users').security).toEqual([{ developerSession: [] }, { developerApiKey: [] }]);
    expect(operation('get', '/api/developer/me').security).toEqual([{ developerSession: [] }]);
    expect(operation('get', '/api/developer/api-keys').security).toEqual([{ developerSession: [] }]);
    expect(operation('post', '/oauth/token').security).toEqual([{ clientBasic: [] }, {}]);
    expect(operation('post', '/api/developer/signup').security).toBeUndefined();
  });

  it('describes request bodies from the DTOs the validation uses (the seed fields, their types and limits)', async () => {
    const schemas = doc.components!.schemas! as Record<string, SchemaObject>;
    expect(schemas.CreateApplicationDto).toMatchObject({ required: ['name', 'redirectUris'], properties: { redirectUris: { type: 'array', items: { type: 'string' } } } });
    expect(schemas.CreateApplicationDto.properties!.webhookUrl).toMatchObject({ type: 'string', nullable: true });
    expect(Object.keys(schemas.UpdateUserDto.properties!).sort()).toEqual(['appEmail', 'blocked', 'isForwarding']);
    expect(schemas.UpdateUserDto.required).toBeUndefined();
    // Absent is allowed, null is a wrong type.
    expect(schemas.UpdateUserDto.properties!.isForwarding).toEqual({ type: 'boolean' });
    expect(Object.keys(schemas.SignUpDto.properties!).sort()).toEqual(['email', 'name', 'password', 'region']);
    const token = operation('post', '/oauth/token').requestBody as { content: Record<string, unknown> };
    expect(Object.keys(token.content)).toEqual(['application/x-www-form-urlencoded']);

    // Whatever the documented schema refuses, the server refuses too (400, nothing written).
    const dev = await signUpDeveloperChecked();
    const create = requestValidator('post', '/api/developer/applications');
    const bad: unknown[] = [
      {},
      { name: 'x' },
      { name: 5, redirectUris: ['https://a.example/cb'] },
      { name: 'x', redirectUris: 'https://a.example/cb' },
      { name: 'x', redirectUris: [] },
      { name: 'x'.repeat(101), redirectUris: ['https://a.example/cb'] },
      { name: 'x', redirectUris: [`https://a.example/${'p'.repeat(2100)}`] },
      { name: 'x', redirectUris: ['https://a.example/cb'], webhookUrl: 42 },
    ];
    for (const body of bad) {
      expect([body, create(body)]).toEqual([body, false]);
      const { status, body: answer } = await call('post', '/api/developer/applications', { json: body, headers: { cookie: dev.cookie } });
      expect([body, status, answer.error]).toEqual([body, 400, 'invalid_request']);
    }
    const good = { name: 'Fine', redirectUris: ['https://a.example/cb'], webhookUrl: null };
    expect(create(good)).toBe(true);
    expect((await call('post', '/api/developer/applications', { json: good, headers: { cookie: dev.cookie } })).status).toBe(201);
    const list = await call<{ applications: unknown[] }>('get', '/api/developer/applications', { headers: { cookie: dev.cookie } });
    expect(list.body.applications).toHaveLength(1);
  });

  async function signUpDeveloperChecked() {
    const fields = { name: 'Doc Developer', email: `doc-${randomBytes(5).toString('hex')}@example.com`, password: 'developer password 1' };
    expect(requestValidator('post', '/api/developer/signup')(fields)).toBe(true);
    const { status, body, res } = await call<{ id: number }>('post', '/api/developer/signup', { json: fields });
    expect(status).toBe(201);
    const cookie = res.headers.getSetCookie()[0].split(';')[0];
    return { ...fields, id: body.id, cookie };
  }

  it("answers the seed's endpoints with exactly their documented schemas", async () => {
    // Developer account.
    const dev = await signUpDeveloperChecked();
    const login = await call('post', '/api/developer/login', { json: { email: dev.email, password: dev.password } });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ id: dev.id, name: dev.name, email: dev.email });
    const cookie = login.res.headers.getSetCookie()[0].split(';')[0];
    const headers = { cookie };
    expect((await call('get', '/api/developer/me', { headers })).body).toMatchObject({ id: dev.id });

    // Applications CRUD.
    const created = await call<{ id: string; clientId: string; clientSecret: string }>('post', '/api/developer/applications', {
      json: { name: 'Documented', redirectUris: ['https://client.example/cb'], webhookUrl: 'https://hooks.example.com/in' },
      headers,
    });
    expect(created.status).toBe(201);
    const appId = created.body.id;
    const params = { appId };
    expect((await call('get', '/api/developer/applications', { headers })).status).toBe(200);
    expect((await call('get', '/api/developer/applications/{appId}', { params, headers })).status).toBe(200);
    const patched = await call('patch', '/api/developer/applications/{appId}', { params, headers, json: { name: 'Renamed', logoUrl: null } });
    expect([patched.status, patched.body.name]).toEqual([200, 'Renamed']);
    const rotated = await call<{ clientSecret: string }>('post', '/api/developer/applications/{appId}/client-secret', { params, headers });
    expect(rotated.status).toBe(200);
    expect((await call('post', '/api/developer/applications/{appId}/webhook-secret', { params, headers })).status).toBe(200);

    // A user signs in to the app: authorization code with PKCE, openid and offline_access.
    const client: ClientApp = {
      id: appId,
      clientId: created.body.clientId,
      clientSecret: rotated.body.clientSecret,
      redirectUri: 'https://client.example/cb',
      developerCookie: cookie,
    };
    const user = await signUpUser(baseUrl);
    const pkce = pkcePair();
    const { res: redirect } = await authorizeAs(baseUrl, user, {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope: 'openid profile email offline_access',
      state: 'st',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const code = callbackParams(redirect).get('code')!;
    const basic = { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` };
    const token = await call<{ access_token: string; refresh_token: string; id_token: string }>('post', '/oauth/token', {
      headers: basic,
      form: { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: pkce.verifier },
    });
    expect(token.status).toBe(200);
    expect(token.body.id_token).toEqual(expect.any(String));
    expect(token.body.refresh_token).toEqual(expect.any(String));
    const bearer = { authorization: `Bearer ${token.body.access_token}` };
    const me = await call('get', '/api/user', { headers: bearer });
    expect([me.status, me.body.globalId]).toEqual([200, user.globalId]);
    expect((await call('get', '/oauth/userinfo', { headers: bearer })).status).toBe(200);
    expect((await call('post', '/oauth/userinfo', { headers: bearer })).status).toBe(200);
    // With a DPoP proof (RFC 9449): a DPoP-bound token, introspected with its key's thumbprint.
    const dpopKeys = await generateKeyPair('ES256');
    const dpop = await new SignJWT({ jti: randomBytes(16).toString('base64url'), htm: 'POST', htu: `${baseUrl}/oauth/token`, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(dpopKeys.publicKey) })
      .sign(dpopKeys.privateKey);
    const refreshed = await call<{ access_token: string; token_type: string }>('post', '/oauth/token', {
      headers: { ...basic, dpop },
      form: { grant_type: 'refresh_token', refresh_token: token.body.refresh_token },
    });
    expect([refreshed.status, refreshed.body.token_type]).toEqual([200, 'DPoP']);
    const introspected = await call('post', '/oauth/introspect', { headers: basic, form: { token: refreshed.body.access_token } });
    expect(introspected.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown } });
    const noProof = await call('get', '/api/user', { headers: { authorization: `DPoP ${refreshed.body.access_token}` } });
    expect([noProof.status, noProof.body.error]).toEqual([401, 'invalid_dpop_proof']);
    const badProof = await call('post', '/oauth/token', {
      headers: { ...basic, dpop: 'garbage' },
      form: { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
    });
    expect([badProof.status, badProof.body.error]).toEqual([400, 'invalid_dpop_proof']);
    expect((await call('post', '/oauth/introspect', { headers: basic, form: { token: token.body.access_token } })).body).toMatchObject({ active: true });
    expect((await call('post', '/oauth/revoke', { headers: basic, form: { token: token.body.access_token } })).status).toBe(200);
    const pushed = await call('post', '/oauth/par', { headers: basic, form: { response_type: 'code', redirect_uri: client.redirectUri, scope: 'profile' } });
    expect(pushed.status).toBe(201);
    expect((await call('post', '/oauth/introspect', { headers: basic, form: { token: token.body.access_token } })).body).toEqual({ active: false });

    // The developer's users: list, patch, delete.
    const users = await call<{ users: { id: string }[]; total: number }>('get', '/api/developer/applications/{appId}/users', { params, headers, query: 'limit=10' });
    expect([users.status, users.body.total]).toEqual([200, 1]);
    const connectionId = users.body.users[0].id;
    const user200 = await call('patch', '/api/developer/applications/{appId}/users/{connectionId}', {
      params: { appId, connectionId },
      headers,
      json: { isForwarding: false },
    });
    expect([user200.status, user200.body.isForwarding]).toEqual([200, false]);

    // Webhooks: the endpoint, a ping, the deliveries log, one delivery, a redelivery.
    expect((await call('get', '/api/developer/applications/{appId}/webhooks', { params, headers })).status).toBe(200);
    const ping = await call<{ id: string }>('post', '/api/developer/applications/{appId}/webhooks/test', { params, headers });
    expect(ping.status).toBe(202);
    const deliveries = await call<{ deliveries: { id: string }[] }>('get', '/api/developer/applications/{appId}/webhooks/deliveries', { params, headers });
    expect(deliveries.body.deliveries.map((d) => d.id)).toContain(ping.body.id);
    const delivery = { appId, deliveryId: ping.body.id };
    expect((await call('get', '/api/developer/applications/{appId}/webhooks/deliveries/{deliveryId}', { params: delivery, headers })).status).toBe(200);
    expect((await call('post', '/api/developer/applications/{appId}/webhooks/deliveries/{deliveryId}/redeliver', { params: delivery, headers })).status).toBe(202);

    expect((await call('delete', '/api/developer/applications/{appId}/users/{connectionId}', { params: { appId, connectionId }, headers })).status).toBe(204);
    expect((await call('get', '/api/user', { headers: bearer })).status).toBe(401);
    expect((await call('delete', '/api/developer/applications/{appId}', { params, headers })).status).toBe(204);
    expect((await call('post', '/api/developer/logout', { headers })).status).toBe(204);
    expect((await call('get', '/api/developer/me', { headers })).status).toBe(401);
  });

  it('answers the account, discovery and operations endpoints with their documented schemas', async () => {
    const email = `doc-user-${randomBytes(4).toString('hex')}@example.com`;
    const signup = await call('post', '/api/account/signup', { json: { name: 'Doc User', email, password: 'correct horse battery staple', region: 'Germany' } });
    expect(signup.status).toBe(201);
    const login = await call('post', '/api/account/login', { json: { email, password: 'correct horse battery staple' } });
    expect(login.status).toBe(200);
    const cookie = login.res.headers.getSetCookie()[0].split(';')[0];
    expect((await call('get', '/api/account/me', { headers: { cookie } })).body).toMatchObject({ email, region: 'Germany' });
    expect((await call('post', '/api/account/logout', { headers: { cookie } })).status).toBe(204);

    expect((await call('get', '/.well-known/openid-configuration')).status).toBe(200);
    expect((await call('get', '/.well-known/oauth-authorization-server')).status).toBe(200);
    const jwks = await call<{ keys: unknown[] }>('get', '/.well-known/jwks.json');
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    expect((await call('get', '/health')).status).toBe(200);
    expect((await call('get', '/health/ready')).status).toBe(200);
    // No worker runs here: 503 temporarily_unavailable, as documented.
    expect((await call('get', '/health/worker')).status).toBe(503);
    const metrics = await call<string>('get', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.body).toContain('http_request_duration_seconds');
    expect((await call('get', '/metrics')).status).toBe(401);
  });

  it('documents the error answers the endpoints really give, each in the shared error shape', async () => {
    const dev = await signUpDeveloperChecked();
    const headers = { cookie: dev.cookie };
    const expectError = async (p: Promise<{ status: number; body: Record<string, unknown> }>, status: number, error: string) => {
      const { status: got, body } = await p;
      expect([got, body.error]).toEqual([status, error]);
    };
    const own = await call<{ id: string; clientId: string; clientSecret: string }>('post', '/api/developer/applications', {
      headers,
      json: { name: 'Mine', redirectUris: ['https://a.example/cb'] },
    });
    const basic = { authorization: `Basic ${Buffer.from(`${own.body.clientId}:${own.body.clientSecret}`).toString('base64')}` };
    // 400 at the token endpoint: an unknown code, a grant it does not support, a body that is not a form.
    await expectError(
      call('post', '/oauth/token', { headers: basic, form: { grant_type: 'authorization_code', code: 'nope', redirect_uri: 'https://a.example/cb' } }),
      400,
      'invalid_grant',
    );
    await expectError(call('post', '/oauth/token', { headers: basic, form: { grant_type: 'password' } }), 400, 'unsupported_grant_type');
    await expectError(call('post', '/oauth/par', { headers: basic, form: { response_type: 'token', redirect_uri: 'https://a.example/cb' } }), 400, 'unsupported_response_type');
    await expectError(call('post', '/oauth/par', { headers: basic, form: { response_type: 'code', redirect_uri: 'https://evil.example/cb' } }), 400, 'invalid_request');
    await expectError(call('post', '/oauth/token', { headers: basic, json: { grant_type: 'authorization_code' } }), 400, 'invalid_request');
    // 400: invalid input, a query value out of range.
    await expectError(call('post', '/api/developer/applications', { headers, json: { name: 7 } }), 400, 'invalid_request');
    await expectError(call('get', '/api/developer/applications/{appId}/users', { params: { appId: own.body.id }, headers, query: 'limit=0' }), 400, 'invalid_request');
    await expectError(
      call('get', '/api/developer/applications/{appId}/webhooks/deliveries', { params: { appId: own.body.id }, headers, query: 'limit=101' }),
      400,
      'invalid_request',
    );
    await expectError(call('post', '/api/developer/applications/{appId}/webhooks/test', { params: { appId: own.body.id }, headers }), 400, 'invalid_request');
    await expectError(call('get', '/oauth/token'), 400, 'invalid_request');
    // 401: no session, no token, a bad client, a wrong password.
    await expectError(call('get', '/api/developer/applications'), 401, 'unauthorized');
    await expectError(call('get', '/api/account/me'), 401, 'unauthorized');
    await expectError(call('get', '/api/user'), 401, 'invalid_token');
    await expectError(call('get', '/oauth/userinfo', { headers: { authorization: 'Bearer nope' } }), 401, 'invalid_token');
    await expectError(
      call('post', '/oauth/token', { form: { grant_type: 'authorization_code', client_id: 'nope', client_secret: 'nope', code: 'x', redirect_uri: 'x' } }),
      401,
      'invalid_client',
    );
    await expectError(call('post', '/oauth/introspect', { form: { token: 'x', client_id: 'nope', client_secret: 'nope' } }), 401, 'invalid_client');
    await expectError(call('post', '/api/developer/login', { json: { email: dev.email, password: 'wrong password 1' } }), 401, 'invalid_credentials');
    // 403: a token without the openid scope at userinfo.
    const client: ClientApp = {
      id: own.body.id,
      clientId: own.body.clientId,
      clientSecret: own.body.clientSecret,
      redirectUri: 'https://a.example/cb',
      developerCookie: dev.cookie,
    };
    const { code, verifier } = await codeFor(baseUrl, client);
    const token = await call<{ access_token: string; scope: string }>('post', '/oauth/token', {
      form: { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, client_id: client.clientId, client_secret: client.clientSecret },
    });
    expect([token.status, token.body.scope.split(' ').sort()]).toEqual([200, ['email', 'profile']]);
    await expectError(call('get', '/oauth/userinfo', { headers: { authorization: `Bearer ${token.body.access_token}` } }), 403, 'insufficient_scope');
    // 403: the CSRF rule of cookie writes (a foreign Origin, or a body that is not JSON).
    await expectError(
      call('post', '/api/developer/applications', { headers: { ...headers, origin: 'https://evil.example' }, json: { name: 'x', redirectUris: ['https://a.example/cb'] } }),
      403,
      'forbidden',
    );
    await expectError(call('post', '/api/developer/applications', { headers: { ...headers, 'content-type': 'text/plain' }, raw: '{}' }), 403, 'forbidden');
    // 404: another developer's (or no) application.
    await expectError(call('get', '/api/developer/applications/{appId}', { params: { appId: 'app_unknown' }, headers }), 404, 'not_found');
    await expectError(
      call('get', '/api/developer/applications/{appId}/webhooks/deliveries/{deliveryId}', { params: { appId: 'app_unknown', deliveryId: 'x' }, headers }),
      404,
      'not_found',
    );
    // 409: the address is taken.
    await expectError(call('post', '/api/developer/signup', { json: { name: 'Again', email: dev.email, password: 'developer password 2' } }), 409, 'conflict');
    // 413: a body over BODY_LIMIT_BYTES.
    await expectError(call('post', '/api/developer/login', { json: { email: dev.email, password: 'p'.repeat(config.bodyLimitBytes + 10) } }), 413, 'payload_too_large');
    // 415: a JSON endpoint given a form.
    await expectError(
      call('post', '/api/account/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: 'email=a&password=b' }),
      415,
      'unsupported_media_type',
    );
    // 429: the login limit per account and IP (after 10 failures).
    let last = 0;
    for (let i = 0; i < 12 && last !== 429; i++) {
      const { status } = await call('post', '/api/developer/login', { json: { email: dev.email, password: `wrong password ${i}` } });
      last = status;
    }
    expect(last).toBe(429);
    expect([...exercised].filter((e) => / 4\d\d$/.test(e)).map((e) => e.slice(-3))).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415', '429']));
  });

  it('serves /docs: swagger-ui from LoginSign itself, no inline code, a CSP of its own origin only', async () => {
    const res = await fetch(`${baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy')!;
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/) as [string, ...string[]])
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('default-src')).toEqual(["'self'"]);
    for (const [name, values] of directives) {
      for (const value of values) expect([name, value]).toEqual([name, expect.stringMatching(/^('self'|'none'|data:)$/)]);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);

    // Every script and stylesheet is a LoginSign path, and is served.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/i);
    const assets = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\/assets\//);
      const got = await fetch(`${baseUrl}${asset}`);
      expect([asset, got.status]).toEqual([asset, 200]);
      const type = asset.endsWith('.js') ? /^text\/javascript/ : asset.endsWith('.png') ? /^image\/png/ : /^text\/css/;
      expect([asset, got.headers.get('content-type')]).toEqual([asset, expect.stringMatching(type)]);
      expect((await got.arrayBuffer()).byteLength).toBeGreaterThan(50);
    }
    const init = await (await fetch(`${baseUrl}/docs/assets/docs-init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
    expect((await fetch(`${baseUrl}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/docs/assets/nothing.js`)).status).toBe(404);

    // The other pages keep their own policy.
    const login = await fetch(`${baseUrl}/login`);
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(login.headers.get('content-security-policy')).not.toBe(csp);
  });

  it('renders the operations in a real browser without a CSP violation or a request elsewhere', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const foreign: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(baseUrl) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(`${baseUrl}/docs`);
      await page.waitForSelector('.opblock-summary-path', { timeout: 90_000 });
      const rendered = page.locator('.opblock-summary-path');
      const paths: (string | null)[] = [];
      for (let i = 0; i < (await rendered.count()); i++) paths.push(await rendered.nth(i).getAttribute('data-path'));
      const operations = Object.values(doc.paths).flatMap((item) => (['get', 'post', 'put', 'patch', 'delete'] as const).filter((m) => item[m]));
      expect(paths).toHaveLength(operations.length);
      expect(paths).toContain('/api/user');
      expect(await page.textContent('.info .title')).toContain('LoginSign API');
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
