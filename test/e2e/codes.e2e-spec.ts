import Redis from 'ioredis';
import { REDIS, sha256Hex } from '@app/common';
import { signUpUser } from '../support/accounts';
import { startApi, TestApp } from '../support/harness';
import { authorizeAs, callbackParams, ClientApp, codeFor, createClientApp, currentUser, exchangeCode, pkcePair } from '../support/oauth';

/** A code is checked against the presenting client, its redirect_uri and PKCE before it is spent (RFC 9700 4.5). */
describe('Authorization codes: checked before they are spent', () => {
  let t: TestApp;
  let app: ClientApp;
  let other: ClientApp;
  let redis: Redis;
  const SECOND_URI = 'https://client.example/other-cb';
  beforeAll(async () => {
    t = await startApi();
    app = await createClientApp(t.baseUrl, ['https://client.example/cb', SECOND_URI]);
    other = await createClientApp(t.baseUrl, ['https://client.example/cb']);
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t.close());

  it('stores the code under a hash-tagged key (one Redis Cluster slot with its used marker)', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const hash = sha256Hex(code);
    expect(await redis.exists(`code:{${hash}}`)).toBe(1);
    expect((await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).res.status).toBe(200);
    expect(await redis.exists(`code:{${hash}}`)).toBe(0);
    expect(await redis.exists(`code-used:{${hash}}`)).toBe(1);
  });

  it('a code presented by another client is refused and stays usable by its own client', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const foreign = await exchangeCode(t.baseUrl, other, { code, code_verifier: verifier });
    expect(foreign.res.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_grant');
    const own = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(own.res.status).toBe(200);
  });

  it.each([
    ['a wrong verifier', () => ({ code_verifier: pkcePair().verifier })],
    ['a malformed verifier', () => ({ code_verifier: 'short' })],
    ['no verifier', () => ({})],
    ['another registered redirect_uri', () => ({ redirect_uri: SECOND_URI })],
  ])('%s: invalid_grant, and the code is not spent', async (_, wrong) => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const refused = await exchangeCode(t.baseUrl, app, { code, ...wrong() });
    expect(refused.res.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).res.status).toBe(200);
  });

  it('a verifier for a code issued without a challenge is refused (downgrade) without spending it', async () => {
    const user = await signUpUser(t.baseUrl);
    const { res } = await authorizeAs(t.baseUrl, user, { response_type: 'code', client_id: app.clientId, redirect_uri: app.redirectUri, state: 's' });
    const code = callbackParams(res).get('code')!;
    const downgrade = await exchangeCode(t.baseUrl, app, { code, code_verifier: pkcePair().verifier });
    expect(downgrade.body.error).toBe('invalid_grant');
    expect((await exchangeCode(t.baseUrl, app, { code })).res.status).toBe(200);
  });

  it('a used code replayed by another client: invalid_grant, and nothing is revoked', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const first = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(first.res.status).toBe(200);
    const replay = await exchangeCode(t.baseUrl, other, { code, code_verifier: verifier });
    expect(replay.body.error).toBe('invalid_grant');
    expect((await currentUser(t.baseUrl, first.body.access_token)).res.status).toBe(200);
  });

  it('a used code replayed by its own client: invalid_grant, and what it issued is revoked', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const first = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect((await currentUser(t.baseUrl, first.body.access_token)).res.status).toBe(200);
    const replay = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(replay.body.error).toBe('invalid_grant');
    expect((await currentUser(t.baseUrl, first.body.access_token)).res.status).toBe(401);
  });

  it('two concurrent redemptions: exactly one succeeds', async () => {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const answers = await Promise.all([1, 2, 3].map(() => exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })));
    expect(answers.filter((a) => a.res.status === 200)).toHaveLength(1);
  });
});
