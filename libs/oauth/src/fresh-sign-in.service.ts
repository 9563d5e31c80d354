import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomToken, REDIS, sha256Hex } from '@app/common';

/** Long enough to sign in (two-step included), short enough not to linger. */
const MARKER_TTL_SECONDS = 15 * 60;

/**
 * prompt=login and max_age send the user to sign in again; the authorize URL
 * they come back to carries a one-time marker, so the request is satisfied by
 * a sign-in that happened after the marker was made, instead of asking again
 * forever. The marker is bound to the application and spent when checked.
 */
@Injectable()
export class FreshSignInService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async mark(applicationId: string): Promise<string> {
    const marker = randomToken(24);
    const issuedAt = Math.floor(Date.now() / 1000);
    await this.redis.set(this.key(marker), JSON.stringify({ applicationId, issuedAt }), 'EX', MARKER_TTL_SECONDS);
    return marker;
  }

  /** True once, when the marker was made for this application and the session signed in at or after it. */
  async satisfiedBy(marker: string, applicationId: string, authTime: number): Promise<boolean> {
    if (marker.length > 64) return false;
    const raw = await this.redis.getdel(this.key(marker));
    if (!raw) return false;
    const made = JSON.parse(raw) as { applicationId: string; issuedAt: number };
    return made.applicationId === applicationId && authTime >= made.issuedAt;
  }

  private key(marker: string): string {
    return `fresh-sign-in:${sha256Hex(marker)}`;
  }
}
