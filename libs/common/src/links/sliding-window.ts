import Redis from 'ioredis';
import { randomToken } from '../crypto';

/** Drops entries older than the window, then adds one only while fewer than `limit` remain; 1 when added. */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/**
 * One sliding-window counter in Redis (a sorted set of timestamps): true
 * and counted when the window holds fewer than `limit` entries, false (and
 * not counted) when it is full. Atomic, so concurrent callers never exceed
 * the limit. The key expires with its window: no housekeeping resets it.
 */
export async function takeSlot(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<boolean> {
  const now = Date.now();
  const added = await redis.eval(TAKE_SLOT, 1, key, String(now), String(windowSeconds * 1000), String(limit), `${now}:${randomToken(6)}`);
  return Number(added) === 1;
}
