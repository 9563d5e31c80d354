import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, isWellFormedUtf16, notFound, randomId, rateLimited, REDIS, sha256, takeSlotOrWait } from '@app/common';
import { ApiKeysRepository, StoredApiKey } from './api-keys.repository';
import { API_KEY_LIMITS } from './dto/api-key.dto';

/** `lsk_` + 32 random bytes in base64url. */
const KEY_FORMAT = /^lsk_[A-Za-z0-9_-]{43}$/;
/** A key's last use is written at most this often. */
const TOUCH_INTERVAL_MS = 60_000;
const RATE_WINDOW_SECONDS = 60;
const DAY_MS = 86_400_000;

export type ApiKeyRecord = StoredApiKey;

/** Who a valid key authenticates. */
export interface ApiKeyIdentity {
  keyId: string;
  developerId: number;
}

/**
 * Developer API keys: created (the key shown once), listed, revoked by their
 * developer; `authenticate` turns a presented key into its developer, or
 * null when it is unknown, revoked or expired, and applies the per-key rate
 * limit (API_KEY_RATE_PER_MINUTE, a sliding window in Redis).
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(developerId: number, input: { name: unknown; expiresInDays?: unknown }): Promise<{ apiKey: ApiKeyRecord; key: string }> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || !isWellFormedUtf16(name) || [...name].length > API_KEY_LIMITS.nameMax || /\p{Cc}/u.test(name)) {
      throw new AppError('invalid_request', `name must be 1 to ${API_KEY_LIMITS.nameMax} characters without control characters.`).withField('name');
    }
    const days = input.expiresInDays;
    if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > API_KEY_LIMITS.expiresInDaysMax)) {
      throw new AppError('invalid_request', `expiresInDays must be a whole number of days from 1 to ${API_KEY_LIMITS.expiresInDaysMax}.`).withField('expiresInDays');
    }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const key = `lsk_${randomBytes(32).toString('base64url')}`;
    const apiKey: ApiKeyRecord = {
      id: randomId('key'),
      developerId,
      name,
      lastUsedAt: null,
      expiresAt: days === undefined ? null : new Date(now.getTime() + days * DAY_MS),
      revokedAt: null,
      createdAt: now,
    };
    await this.keys.insert(apiKey, sha256(key));
    return { apiKey, key };
  }

  list(developerId: number): Promise<ApiKeyRecord[]> {
    return this.keys.listByDeveloper(developerId);
  }

  /** Revokes one of the developer's keys (again: no change); another developer's or unknown id: 404. */
  async revoke(developerId: number, id: string): Promise<void> {
    if (!(await this.keys.findOwned(developerId, id))) throw notFound('The API key');
    await this.keys.revoke(developerId, id, new Date());
  }

  /**
   * The developer a presented key belongs to, or null (malformed, unknown,
   * revoked, expired). The lookup is by the key's SHA-256, so no comparison
   * runs over the secret. Over the key's rate: 429 with Retry-After.
   */
  async authenticate(presented: string): Promise<ApiKeyIdentity | null> {
    if (!KEY_FORMAT.test(presented)) return null;
    const key = await this.keys.findByHash(sha256(presented));
    const now = new Date();
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) return null;
    await this.throttle(key.id);
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      await this.keys.touch(key.id, now, new Date(now.getTime() - TOUCH_INTERVAL_MS));
    }
    return { keyId: key.id, developerId: key.developerId };
  }

  /** Sliding one-minute window per key; a refused request does not count. */
  private async throttle(keyId: string): Promise<void> {
    const limit = this.config.apiKeyRatePerMinute;
    const slot = await takeSlotOrWait(this.redis, `api-key-rate:${keyId}`, limit, RATE_WINDOW_SECONDS);
    if (!slot.taken) throw rateLimited(`This API key made more than ${limit} requests in a minute. Try again later.`, slot.retryAfterSeconds);
  }
}
