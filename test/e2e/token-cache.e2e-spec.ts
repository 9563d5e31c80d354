import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApi } from '../../apps/api/src/bootstrap';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';

/**
 * /api/user answers from an in-process cache; these check that every change
 * that matters is seen on the very next request, in this process and in
 * another API process on the same database.
 */
describe('/api/user lookup cache', () => {
  let t: TestApp;
  let other: NestFastifyApplication;
  let otherUrl: string;
  let app: ClientApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startApi();
    db = t.app.get(DataSource);
    other = await createApi(t.config);
    await other.listen({ port: 0, host: '127.0.0.1' });
    otherUrl = `http://127.0.0.1:${(other.getHttpServer().address() as { port: number }).port}`;
    app = await createClientApp(t.baseUrl);
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  async function signedIn() {
    const { code, verifier } = await codeFor(t.baseUrl, app);
    const { body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    const token = body.access_token;
    // Warm both processes' caches.
    const first = await currentUser(t.baseUrl, token);
    expect(first.res.status).toBe(200);
    expect((await currentUser(otherUrl, token)).res.status).toBe(200);
    return { token, connectionId: first.body.id };
  }

  it('sees a block made through the other process on the very next request', async () => {
    const { token, connectionId } = await signedIn();
    const res = await fetch(`${otherUrl}/api/developer/applications/${app.id}/users/${connectionId}`, {
      method: 'PATCH',
      headers: { cookie: app.developerCookie, 'content-type': 'application/json' },
      body: JSON.stringify({ blocked: true }),
    });
    expect(res.status).toBe(200);
    expect((await currentUser(t.baseUrl, token)).res.status).toBe(401);
    expect((await currentUser(otherUrl, token)).res.status).toBe(401);
  });

  it('sees revocations, renames and re-shares written straight to the database, every time', async () => {
    for (let i = 0; i < 10; i++) {
      const { token, connectionId } = await signedIn();
      await db.query(`UPDATE users SET name = ? WHERE id = (SELECT user_id FROM connections WHERE id = ?)`, [`Renamed ${i}`, connectionId]);
      expect((await currentUser(otherUrl, token)).body.name).toBe(`Renamed ${i}`);
      await db.query(`UPDATE connections SET shared_email = NULL WHERE id = ?`, [connectionId]);
      expect((await currentUser(t.baseUrl, token)).body.email).toBeNull();
      await db.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ?`, [connectionId]);
      const [a, b] = await Promise.all([currentUser(t.baseUrl, token), currentUser(otherUrl, token)]);
      expect([a.res.status, b.res.status]).toEqual([401, 401]);
    }
  });

  it('sees the deletion of the application (cascades fire no triggers of their own)', async () => {
    const { token } = await signedIn();
    const res = await fetch(`${t.baseUrl}/api/developer/applications/${app.id}`, { method: 'DELETE', headers: { cookie: app.developerCookie } });
    expect(res.status).toBe(204);
    expect((await currentUser(otherUrl, token)).res.status).toBe(401);
  });
});
