import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomToken, sha256Hex } from '../crypto';
import { REDIS } from '../redis/redis.module';
import type { SessionKind } from '../session/session.service';

/** How long a browser has to enter the code after the password was accepted. */
export const PENDING_SECOND_STEP_SECONDS = 300;

export interface PendingSecondStep {
  /** Whose login: an end user's or a developer's (each second-step page takes only its own). */
  kind: SessionKind;
  /** The user's or developer's id. */
  userId: number;
  returnTo: string;
  /** How the first step signed in, when not with a password (e.g. a passkey without user verification). */
  amr?: string[];
}

/**
 * The state between a login's password and its code: in Redis under the
 * SHA-256 of a random handle that only the browser holds (a cookie), short
 * TTL, taken exactly once when the code is accepted. No session exists
 * until then.
 */
@Injectable()
export class PendingSecondStepService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private key(handle: string) {
    return `2step-pending:${sha256Hex(handle)}`;
  }

  async start(state: PendingSecondStep): Promise<string> {
    const handle = randomToken();
    await this.redis.set(this.key(handle), JSON.stringify(state), 'EX', PENDING_SECOND_STEP_SECONDS);
    return handle;
  }

  async get(handle: string | undefined): Promise<PendingSecondStep | null> {
    if (!handle || handle.length > 100) return null;
    const raw = await this.redis.get(this.key(handle));
    return raw ? (JSON.parse(raw) as PendingSecondStep) : null;
  }

  /** Ends the pending state; true only for the one caller that removed it. */
  async take(handle: string): Promise<boolean> {
    return (await this.redis.del(this.key(handle))) === 1;
  }
}
