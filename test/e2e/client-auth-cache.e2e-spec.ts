// Client authentication is answered from a per-process cache (ClientAuthCache):
// a secret rotation or an application's deletion on one API process must refuse
// the old secret on the very next token request on another process.
import { startApi, TestApp } from '../support/harness';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { ClientApp, codeFor, createClientApp, exchangeCode } from '../support/oauth';

describe('client authentication cache across API processes', () => {
  let t: TestApp;
  let other: ApiProcess;

  beforeAll(async () => {
    t = await startApi();
    other = await startApiProcess(t.env, await freePort());
  }, 90_000);

  afterAll(async () => {
    await other?.stop();
    await t?.close();
  });

  /** A token request with a code that does not exist: 400 invalid_grant once the client is authenticated, 401 invalid_client otherwise. */
  const authenticates = async (baseUrl: string, app: ClientApp) => {
    const { res, body } = await exchangeCode(baseUrl, app, { code: 'no-such-code', code_verifier: 'v'.repeat(43) });
    if (res.status === 400 && body.error === 'invalid_grant') return true;
    if (res.status === 401 && body.error === 'invalid_client') return false;
    throw new Error(`unexpected answer ${res.status} ${JSON.stringify(body)}`);
  };

  const developerCall = (app: ClientApp, method: string, path: string) =>
    fetch(`${t.baseUrl}/api/developer/applications/${app.id}${path}`, { method, headers: { cookie: app.developerCookie } });

  it('refuses the old secret on the next request after a rotation, on this process and on another', async () => {
    const app = await createClientApp(t.baseUrl);
    // Remembered by both processes (the second request of each is answered from the cache).
    for (const baseUrl of [t.baseUrl, other.baseUrl, t.baseUrl, other.baseUrl]) expect(await authenticates(baseUrl, app)).toBe(true);

    const rotated = await developerCall(app, 'POST', '/client-secret');
    expect(rotated.status).toBe(200);
    const { clientSecret } = (await rotated.json()) as { clientSecret: string };

    expect(await authenticates(other.baseUrl, app)).toBe(false);
    expect(await authenticates(t.baseUrl, app)).toBe(false);
    const renewed = { ...app, clientSecret };
    expect(await authenticates(other.baseUrl, renewed)).toBe(true);
    // A real exchange on the other process with the new secret.
    const { code, verifier } = await codeFor(t.baseUrl, renewed);
    const { res, body } = await exchangeCode(other.baseUrl, renewed, { code, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('refuses the secret of a deleted application on the next request on another process', async () => {
    const app = await createClientApp(t.baseUrl);
    for (const baseUrl of [other.baseUrl, other.baseUrl]) expect(await authenticates(baseUrl, app)).toBe(true);
    const deleted = await developerCall(app, 'DELETE', '');
    expect(deleted.status).toBe(204);
    expect(await authenticates(other.baseUrl, app)).toBe(false);
  });
});
