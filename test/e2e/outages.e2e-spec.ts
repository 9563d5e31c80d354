import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import Redis from 'ioredis';
import { REDIS } from '@app/common';
import { startApi, TestApp } from '../support/harness';
import { codeFor, createClientApp, exchangeCode } from '../support/oauth';

/** MySQL or Redis unreachable: clean 503s as {error: 'temporarily_unavailable', error_description}, never a 500 or a stack. */
describe('backing services down', () => {
  let t: TestApp;
  let token: string;
  let developerCookie: string;
  let appId: string;

  beforeAll(async () => {
    t = await startApi();
    const app = await createClientApp(t.baseUrl);
    const { code, verifier } = await codeFor(t.baseUrl, app);
    token = (await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).body.access_token;
    developerCookie = app.developerCookie;
    appId = app.id;
  });
  afterAll(() => t.close());

  const expect503 = async (res: Response) => {
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(body).not.toMatch(/at .*\.ts:\d+|ECONNREFUSED|SELECT|stack/i);
  };

  it('answers 503 while Redis is unreachable, and recovers', async () => {
    const redis = t.app.get<Redis>(REDIS);
    redis.disconnect();
    try {
      await expect503(await fetch(`${t.baseUrl}/health/ready`));
      await expect503(await fetch(`${t.baseUrl}/api/developer/applications`, { headers: { cookie: developerCookie } }));
    } finally {
      await redis.connect();
    }
    expect((await fetch(`${t.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('answers 503 while MySQL is unreachable', async () => {
    // Point the pool at a closed port and drop its idle connections: every
    // query then fails to connect, as it does while MySQL is down.
    type MysqlPool = { config: { connectionConfig: { port: number } }; _freeConnections: { toArray(): { destroy(): void }[] } };
    const pool = (t.app.get(DataSource).driver as unknown as { pool: MysqlPool }).pool;
    const port = pool.config.connectionConfig.port;
    pool._freeConnections.toArray().forEach((connection) => connection.destroy());
    pool.config.connectionConfig.port = 1;
    try {
      await expect503(await fetch(`${t.baseUrl}/health/ready`));
      await expect503(await fetch(`${t.baseUrl}/api/user`, { headers: { authorization: `Bearer ${token}` } }));
      await expect503(await fetch(`${t.baseUrl}/api/developer/applications/${appId}/users`, { headers: { cookie: developerCookie } }));
    } finally {
      pool.config.connectionConfig.port = port;
    }
    expect((await fetch(`${t.baseUrl}/health/ready`)).status).toBe(200);
  });
});
