import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Session, SessionKind, SessionService } from '@app/common';
import { clearSessionCookie, readCookie, setSessionCookie } from './cookies';

/**
 * Browser sessions (cookie <-> Redis) of either kind: end users (`ls_session`)
 * and developers (`ls_dev`). Pages and JSON endpoints start, read and end
 * them only here.
 */
@Injectable()
export class CookieSessionService {
  constructor(
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  current(request: FastifyRequest, kind: SessionKind): Promise<Session | null> {
    return this.sessions.get(readCookie(request, this.config, kind), kind);
  }

  /** A fresh session id at every login (no fixation); any previous session of this browser ends. `amr` records how the user signed in. */
  async start(request: FastifyRequest, reply: FastifyReply, kind: SessionKind, subjectId: number, amr?: string[]): Promise<void> {
    const previous = await this.current(request, kind);
    if (previous) await this.sessions.destroy(previous);
    const session = await this.sessions.create(kind, subjectId, amr);
    setSessionCookie(reply, this.config, kind, session.id);
  }

  /** Destroys the server-side session (if any) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply, kind: SessionKind): Promise<void> {
    const session = await this.current(request, kind);
    if (session) await this.sessions.destroy(session);
    clearSessionCookie(reply, this.config, kind);
  }
}
