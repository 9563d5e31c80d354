import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PENDING_SECOND_STEP_SECONDS, PendingSecondStep, PendingSecondStepService } from '@app/identity';
import { clearPendingSignInCookie, readPendingSignInCookie, setPendingSignInCookie } from '../shared/cookies';
import { seeOther } from '../shared/pages';

/** The browser side of a login's pending second step: the cookie that names the Redis state. */
@Injectable()
export class LoginSecondStep {
  constructor(
    private readonly pending: PendingSecondStepService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** After the right password of an account with two-step sign-in: no session yet, on to the code page. */
  async begin(reply: FastifyReply, userId: number, returnTo: string): Promise<void> {
    await this.start(reply, { userId, returnTo });
    return seeOther(reply, '/login/two-step');
  }

  /** Records the pending second step (with the amr of the first, when it was not a password) and sets its cookie. */
  async start(reply: FastifyReply, state: PendingSecondStep): Promise<void> {
    const handle = await this.pending.start(state);
    setPendingSignInCookie(reply, this.config, handle, PENDING_SECOND_STEP_SECONDS);
  }

  async current(request: FastifyRequest): Promise<(PendingSecondStep & { handle: string }) | null> {
    const handle = readPendingSignInCookie(request, this.config);
    const state = await this.pending.get(handle);
    return state && handle ? { ...state, handle } : null;
  }

  /** Ends the pending state (true for the one request that ended it) and clears the cookie. */
  async finish(reply: FastifyReply, handle: string): Promise<boolean> {
    clearPendingSignInCookie(reply, this.config);
    return this.pending.take(handle);
  }
}
