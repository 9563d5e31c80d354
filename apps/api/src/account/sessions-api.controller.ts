import { Controller, Delete, Get, Header, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isoUtc, Session, SessionService, sha256Hex } from '@app/common';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CurrentSession, UserSessionGuard } from '../shared/session.guard';
import { ApiEndpoint } from '../shared/openapi';
import { parseUserAgent } from '../shared/user-agent';
import { AccountSessionList } from './account.schemas';

/** A session id as the list gives it (the SHA-256 of the cookie value, never the cookie value). */
const SESSION_ID = /^[0-9a-f]{64}$/;

/** JSON equivalents of the sessions section of /account/security. */
@Controller('api/account/sessions')
@UseGuards(UserSessionGuard)
export class SessionsApiController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookieSessions: CookieSessionService,
  ) {}

  @ApiEndpoint({ summary: "The account's active sessions", auth: 'user', response: AccountSessionList })
  @Get()
  @Header('cache-control', 'no-store')
  async list(@CurrentSession() session: Session) {
    const sessions = await this.sessions.list('user', session.subjectId, session.id);
    return {
      sessions: sessions.map((s) => ({
        id: s.handle,
        current: s.current,
        ...parseUserAgent(s.userAgent),
        ip: s.ip || null,
        createdAt: isoUtc(new Date(s.createdAt * 1000)),
        lastActiveAt: isoUtc(new Date(s.lastSeenAt * 1000)),
      })),
    };
  }

  /** Signs out every session of the account but this one. */
  @ApiEndpoint({ summary: 'Sign out every other session of the account', auth: 'user', response: null })
  @Post('sign-out-others')
  @HttpCode(204)
  async signOutOthers(@CurrentSession() session: Session) {
    await this.sessions.destroyAll('user', session.subjectId, session.id);
  }

  /** Signs out one session of the account (this one too: then the cookie is cleared). 404 for anything else. */
  @ApiEndpoint({ summary: 'Sign out one session of the account', auth: 'user', response: null, errors: ['invalid_request'] })
  @Delete(':sessionId')
  @HttpCode(204)
  async signOut(@CurrentSession() session: Session, @Param('sessionId') id: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!SESSION_ID.test(id)) throw new AppError('invalid_request', 'The session id must be one of the ids GET /api/account/sessions lists.');
    if (id === sha256Hex(session.id)) {
      await this.cookieSessions.end(request, reply, 'user');
      return;
    }
    if (!(await this.sessions.destroyByHandle('user', session.subjectId, id))) throw new AppError('not_found', 'No such session.');
  }
}
