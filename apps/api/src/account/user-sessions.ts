import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Session, SessionService } from '@app/common';
import { clearSessionCookie, readCookie, setSessionCookie } from '../shared/cookies';

/** End-user sessions as the account endpoints use them (cookie <-> Redis). */
@Injectable()
export class UserSessions {
  constructor(
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  current(request: FastifyRequest): Promise<Session | null> {
    return this.sessions.get(readCookie(request, this.config, 'user'), 'user');
  }

  /** A fresh session id at every login (no fixation); any previous session of this browser ends. */
  async start(request: FastifyRequest, reply: FastifyReply, userId: number): Promise<void> {
    const previous = await this.current(request);
    if (previous) await this.sessions.destroy(previous);
    const session = await this.sessions.create('user', userId);
    setSessionCookie(reply, this.config, 'user', session.id);
  }

  /** Destroys the server-side session (if any) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const session = await this.current(request);
    if (session) await this.sessions.destroy(session);
    clearSessionCookie(reply, this.config, 'user');
  }
}
