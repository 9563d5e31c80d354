import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, Session, SessionKind, SessionService } from '@app/common';
import { readCookie } from './cookies';
import { isCrossSite, isJsonRequest } from './csrf-rules';

type RequestWithSession = FastifyRequest & { session?: Session };

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(request: FastifyRequest): boolean {
  const length = Number(request.headers['content-length'] ?? 0);
  return length > 0 || request.headers['transfer-encoding'] !== undefined;
}

/**
 * Guards for the cookie-authenticated JSON APIs: a live session of the right
 * kind (else 401 `unauthorized`) and, on writes, the contract's CSRF rule:
 * no foreign Origin / cross-site Fetch Metadata, and a body only as
 * application/json (else 403 `forbidden`).
 */
function sessionGuard(kind: SessionKind) {
  @Injectable()
  class SessionGuard implements CanActivate {
    constructor(
      readonly sessions: SessionService,
      @Inject(APP_CONFIG) readonly config: AppConfig,
    ) {}

    async canActivate(context: ExecutionContext): Promise<boolean> {
      const request = context.switchToHttp().getRequest<RequestWithSession>();
      if (WRITE_METHODS.has(request.method)) {
        if (isCrossSite(request, this.config)) throw new AppError('forbidden', 'Cross-site requests are not allowed.');
        if (hasBody(request) && !isJsonRequest(request)) {
          throw new AppError('forbidden', 'Cookie-authenticated writes must send application/json.');
        }
      }
      const session = await this.sessions.get(readCookie(request, this.config, kind), kind);
      if (!session) throw new AppError('unauthorized', 'Sign in first: no valid session.');
      request.session = session;
      return true;
    }
  }
  return SessionGuard;
}

export const DeveloperSessionGuard = sessionGuard('developer');
export const UserSessionGuard = sessionGuard('user');

/** The session the guard attached. */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext): Session => {
  return ctx.switchToHttp().getRequest<RequestWithSession>().session!;
});
