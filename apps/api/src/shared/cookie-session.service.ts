import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Session, SessionKind, SessionOrigin, SessionService } from '@app/common';
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
    const session = await this.sessions.create(kind, subjectId, this.origin(request), amr);
    setSessionCookie(reply, this.config, kind, session.id);
  }

  /**
   * After a password change: every session of the subject ends (this one
   * too) and this browser continues under a new session id.
   */
  async renewAfterPasswordChange(request: FastifyRequest, reply: FastifyReply, kind: SessionKind, subjectId: number): Promise<void> {
    await this.sessions.destroyAll(kind, subjectId);
    const session = await this.sessions.create(kind, subjectId, this.origin(request));
    setSessionCookie(reply, this.config, kind, session.id);
  }

  /** The client IP (TRUST_PROXY decides whose) and User-Agent a session list shows. */
  private origin(request: FastifyRequest): SessionOrigin {
    const agent = request.headers['user-agent'];
    return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : '' };
  }

  /** Destroys the server-side session (if any) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply, kind: SessionKind): Promise<void> {
    const session = await this.current(request, kind);
    if (session) await this.sessions.destroy(session);
    clearSessionCookie(reply, this.config, kind);
  }
}
