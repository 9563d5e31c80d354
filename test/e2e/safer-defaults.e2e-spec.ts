import { expect } from '@jest/globals';
import { AppError, RateLimitService } from '@app/common';
import { startApi, TestApp } from '../support/harness';
import { fromAddress } from '../support/from-address';

describe('/dev/mailbox: development only, loopback clients only', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ TRUST_PROXY: '127.0.0.0/8' });
  });
  afterAll(() => t.close());

  it('answers a loopback client', async () => {
    const res = await fromAddress('127.0.0.2', t.baseUrl, '/dev/mailbox');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<html/i);
  });

  it('is 404 to a client that is not loopback, even through a loopback proxy', async () => {
    const res = await fromAddress('127.0.0.2', t.baseUrl, '/dev/mailbox', { headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/mailbox/i);
  });
});

describe('production settings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi({ NODE_ENV: 'production', PUBLIC_URL: 'http://localhost:3000' });
  });
  afterAll(() => t.close());

  it('has no /dev/mailbox, not even for loopback', async () => {
    const res = await fromAddress('127.0.0.1', t.baseUrl, '/dev/mailbox');
    expect(res.status).toBe(404);
  });

  it('counts password reset requests per client IP (20 an hour) for the reset flow, trusting no proxy by default', async () => {
    const limits = t.app.get(RateLimitService);
    expect(t.config.trustProxy).toBe(false);
    // The per-IP reset-request limit (used by the reset flow) counts the socket address only.
    for (let i = 0; i < 20; i++) await limits.resetRequest('127.0.0.9');
    const refused = await limits.resetRequest('127.0.0.9').then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('rate_limited');
    expect(Number((refused as AppError).headers['Retry-After'])).toBeGreaterThan(0);
    await expect(limits.resetRequest('127.0.0.10')).resolves.toBeUndefined();
  });
});
