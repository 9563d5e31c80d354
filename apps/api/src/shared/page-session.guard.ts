import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseFilters, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import { Session, SessionKind } from '@app/common';
import { CookieSessionService } from './cookie-session.service';
import { DEFAULT_RETURN_TO, PORTAL_HOME, portalReturnTo } from './return-to';
import { SignInRedirectFilter } from './sign-in-redirect.filter';
import { SignInRequired } from './sign-in-required';

const PAGE_SESSION_KIND = 'page-session-kind';

/**
 * Where a browser without a session goes: the login page of its kind. A GET
 * comes back to the page it asked for after login; a POST (its form is gone)
 * to the home page of its kind.
 */
export function signInLocation(kind: SessionKind, request: FastifyRequest): string {
  const page = request.method === 'GET' ? request.url : undefined;
  if (kind === 'developer') {
    const target = page ? portalReturnTo(page) : PORTAL_HOME;
    return target === PORTAL_HOME ? '/developer/login' : `/developer/login?${new URLSearchParams({ return_to: target })}`;
  }
  const path = page?.split('?')[0];
  return `/login?return_to=${path && /^\/account(\/[A-Za-z0-9_-]+)*$/.test(path) ? path : DEFAULT_RETURN_TO}`;
}

/**
 * The one guard of every page that needs a signed-in browser: the session of
 * the kind named by `@PageSession(kind)`, attached to the request (read it
 * with `@CurrentSession()`), else a 303 to the login page.
 */
@Injectable()
export class PageSessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly cookieSessions: CookieSessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const kind = this.reflector.getAllAndOverride<SessionKind>(PAGE_SESSION_KIND, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<FastifyRequest & { session?: Session }>();
    const session = await this.cookieSessions.current(request, kind);
    if (!session) throw new SignInRequired(signInLocation(kind, request));
    request.session = session;
    return true;
  }
}

/** Pages (a controller or one handler) that need a signed-in browser of this kind. */
export const PageSession = (kind: SessionKind) => applyDecorators(SetMetadata(PAGE_SESSION_KIND, kind), UseGuards(PageSessionGuard), UseFilters(SignInRedirectFilter));

/** The session PageSessionGuard attached (only on routes behind `@PageSession`). */
export function sessionOf(request: FastifyRequest): Session {
  const session = (request as FastifyRequest & { session?: Session }).session;
  if (!session) throw new Error('sessionOf() on a route without @PageSession');
  return session;
}
