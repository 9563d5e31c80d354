import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomToken, REDIS, sha256Hex } from '@app/common';

/** RFC 9126 2.2: the request_uri's URN prefix. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** Seconds a pushed request stays usable (RFC 9126 2.2: short-lived). */
export const PUSHED_REQUEST_TTL_SECONDS = 60;

interface StoredRequest {
  applicationId: string;
  params: Record<string, string>;
}

/** A pushed request found for its client; `spend` uses it up. */
export interface PushedRequest {
  params: Record<string, string>;
  key: string;
}

/**
 * Pushed authorization requests (RFC 9126) in Redis: stored under the
 * SHA-256 of the request_uri (a dump yields nothing usable), bound to the
 * client that pushed them, single use, expiring after 60 seconds.
 */
@Injectable()
export class PushedRequestsService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async push(applicationId: string, params: Record<string, string>): Promise<{ requestUri: string; expiresIn: number }> {
    const requestUri = `${REQUEST_URI_PREFIX}${randomToken(32)}`;
    const stored: StoredRequest = { applicationId, params };
    await this.redis.set(this.key(requestUri), JSON.stringify(stored), 'EX', PUSHED_REQUEST_TTL_SECONDS);
    return { requestUri, expiresIn: PUSHED_REQUEST_TTL_SECONDS };
  }

  /**
   * The parameters pushed by this client, without spending them: a sign-in
   * on the way must find them again when the browser comes back. Null when
   * unknown, used, expired or pushed by another client.
   */
  async find(applicationId: string, requestUri: string): Promise<PushedRequest | null> {
    if (!requestUri.startsWith(REQUEST_URI_PREFIX) || requestUri.length > 200) return null;
    const key = this.key(requestUri);
    const raw = await this.redis.get(key);
    if (!raw) return null;
    const stored = JSON.parse(raw) as StoredRequest;
    return stored.applicationId === applicationId ? { params: stored.params, key } : null;
  }

  /** Uses the request up; false when another use came first (one atomic GETDEL). */
  async spend(request: PushedRequest): Promise<boolean> {
    return (await this.redis.getdel(request.key)) !== null;
  }

  private key(requestUri: string): string {
    return `par:${sha256Hex(requestUri)}`;
  }
}
