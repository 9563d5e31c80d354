import { Controller, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, SessionService, sha256Hex } from '@app/common';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { PageSession, sessionOf } from '../shared/page-session.guard';
import { field, Form, seeOther } from '../shared/pages';

/** A session handle as the list shows it (the SHA-256 of a session id). */
const HANDLE = /^[0-9a-f]{64}$/;

/**
 * The sessions section of /account/security: sign out one session, or every
 * session but this one. Only sessions of the signed-in account can be named.
 */
@Controller('account/security/sessions')
@PageSession('user')
export class SecuritySessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookieSessions: CookieSessionService,
    private readonly csrf: CsrfService,
  ) {}

  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const session = sessionOf(request);
    const handle = field(form, 'session');
    if (!HANDLE.test(handle)) throw new AppError('invalid_request', 'The form field session must name one of your sessions.');
    if (handle === sha256Hex(session.id)) {
      await this.cookieSessions.end(request, reply, 'user');
      return seeOther(reply, '/login');
    }
    if (!(await this.sessions.destroyByHandle('user', session.subjectId, handle))) throw new AppError('not_found', 'That session has already ended.');
    return seeOther(reply, '/account/security?done=session-ended#sessions');
  }

  @Post('sign-out-others')
  async signOutOthers(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const session = sessionOf(request);
    await this.sessions.destroyAll('user', session.subjectId, session.id);
    return seeOther(reply, '/account/security?done=others-ended#sessions');
  }
}
