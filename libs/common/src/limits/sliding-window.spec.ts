import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { takeSlot, takeSlotOrWait } from './sliding-window';

// Real Redis, keys under a prefix of this run only.
describe('sliding-window slots (Redis)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: `lstest-window-${randomBytes(4).toString('hex')}:` });
  afterAll(async () => {
    const keys = await redis.keys(`${redis.options.keyPrefix}*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(String(redis.options.keyPrefix).length)));
    await redis.quit();
  });

  it('counts exactly the limit under concurrent callers and refuses the rest without counting them', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => takeSlotOrWait(redis, 'concurrent', 20, 3600)));
    expect(results.filter((r) => r.taken)).toHaveLength(20);
    expect(await redis.zcard('concurrent')).toBe(20);
    for (const refused of results.filter((r) => !r.taken)) {
      expect(refused.retryAfterSeconds).toBeGreaterThan(3500);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3600);
    }
  });

  it('frees a slot when the oldest entry leaves the window', async () => {
    await redis.zadd('aging', Date.now() - 61_000, 'old');
    expect(await takeSlot(redis, 'aging', 1, 60)).toBe(true);
    expect(await takeSlot(redis, 'aging', 1, 60)).toBe(false);
    expect(await redis.pttl('aging')).toBeGreaterThan(0);
  });
});
