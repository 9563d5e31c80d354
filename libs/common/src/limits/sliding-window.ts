import Redis from 'ioredis';
import { randomToken } from '../crypto';

/**
 * Drops entries older than the window, then adds one only while fewer than
 * `limit` remain. Returns -1 when added, else the score (ms) of the oldest
 * entry, from which the caller derives Retry-After.
 */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return -1`;

/** Whether the event was counted and, when the window was full, the seconds until a slot frees. */
export interface SlotResult {
  taken: boolean;
  retryAfterSeconds: number;
}

/**
 * One sliding-window counter in Redis (a sorted set of timestamps), in one
 * atomic step: the event is counted when the window holds fewer than `limit`
 * entries, not counted when it is full, so concurrent callers never exceed
 * the limit. The key expires with its window: no housekeeping resets it.
 */
export async function takeSlotOrWait(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<SlotResult> {
  const now = Date.now();
  const windowMs = windowSeconds * 1000;
  const oldest = Number(await redis.eval(TAKE_SLOT, 1, key, String(now), String(windowMs), String(limit), `${now}:${randomToken(6)}`));
  if (oldest === -1) return { taken: true, retryAfterSeconds: 0 };
  return { taken: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
}

/** `takeSlotOrWait` for callers that only need to know whether the event was counted. */
export async function takeSlot(redis: Redis, key: string, limit: number, windowSeconds: number): Promise<boolean> {
  return (await takeSlotOrWait(redis, key, limit, windowSeconds)).taken;
}
