import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PENDING_SECOND_STEP_SECONDS, PendingSecondStep, PendingSecondStepService, SessionKind } from '@app/common';
import { clearPendingSignInCookie, readPendingSignInCookie, setPendingSignInCookie } from './cookies';
import { seeOther } from './pages';

/** The browser side of a login's pending second step: the cookie that names the Redis state. */
@Injectable()
export class LoginSecondStep {
  constructor(
    private readonly pending: PendingSecondStepService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** After the right password of an account with two-step sign-in: no session yet, on to the code page of its kind. */
  async begin(reply: FastifyReply, kind: SessionKind, userId: number, returnTo: string): Promise<void> {
    await this.start(reply, { kind, userId, returnTo });
    return seeOther(reply, kind === 'developer' ? '/developer/login/two-step' : '/login/two-step');
  }

  /** Records the pending second step (with the amr of the first, when it was not a password) and sets its cookie. */
  async start(reply: FastifyReply, state: PendingSecondStep): Promise<void> {
    const handle = await this.pending.start(state);
    setPendingSignInCookie(reply, this.config, handle, PENDING_SECOND_STEP_SECONDS);
  }

  /** The pending login of this browser, when it is one of `kind`. */
  async current(request: FastifyRequest, kind: SessionKind): Promise<(PendingSecondStep & { handle: string }) | null> {
    const handle = readPendingSignInCookie(request, this.config);
    const state = await this.pending.get(handle);
    return state && handle && state.kind === kind ? { ...state, handle } : null;
  }

  /** Ends the pending state (true for the one request that ended it) and clears the cookie. */
  async finish(reply: FastifyReply, handle: string): Promise<boolean> {
    clearPendingSignInCookie(reply, this.config);
    return this.pending.take(handle);
  }
}
