import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, Session, SessionKind } from '@app/common';
import { CookieSessionService } from './cookie-session.service';
import { refuseCrossSiteWrite } from './csrf-rules';

type RequestWithSession = FastifyRequest & { session?: Session };

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Guards for the cookie-authenticated JSON APIs: a live session of the right
 * kind (else 401 `unauthorized`) and, on writes, the JSON CSRF rule:
 * no foreign Origin / cross-site Fetch Metadata, and a body only as
 * application/json (else 403 `forbidden`).
 */
function sessionGuard(kind: SessionKind) {
  @Injectable()
  class SessionGuard implements CanActivate {
    constructor(
      readonly cookieSessions: CookieSessionService,
      @Inject(APP_CONFIG) readonly config: AppConfig,
    ) {}

    async canActivate(context: ExecutionContext): Promise<boolean> {
      const request = context.switchToHttp().getRequest<RequestWithSession>();
      if (WRITE_METHODS.has(request.method)) refuseCrossSiteWrite(request, this.config, true);
      const session = await this.cookieSessions.current(request, kind);
      if (!session) throw new AppError('unauthorized', 'Sign in first: no valid session.');
      request.session = session;
      return true;
    }
  }
  return SessionGuard;
}

export const DeveloperSessionGuard = sessionGuard('developer');
export const UserSessionGuard = sessionGuard('user');

/** The session the guard (this one or PageSessionGuard) attached. */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext): Session => {
  return ctx.switchToHttp().getRequest<RequestWithSession>().session!;
});
