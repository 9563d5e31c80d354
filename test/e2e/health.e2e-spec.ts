import { expect } from '@jest/globals';
import { startApi, TestApp } from '../support/harness';

describe('health and error shape', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  it('answers liveness and readiness with MySQL and Redis up', async () => {
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { details: Record<string, { status: string }> };
    expect(body.details.mysql.status).toBe('up');
    expect(body.details.redis.status).toBe('up');
  });

  it('answers unknown API routes with the {error, error_description} shape', async () => {
    const res = await fetch(`${t.baseUrl}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', error_description: expect.any(String) });
  });
});
