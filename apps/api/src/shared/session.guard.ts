import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, Session, SessionKind } from '@app/common';
import { CookieSessionService } from './cookie-session.service';
import { refuseCrossSiteWrite } from './csrf-rules';
import { ApiKeysService } from '@app/developer';

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

export const UserSessionGuard = sessionGuard('user');
const DeveloperCookieGuard = sessionGuard('developer');

/** The routes a developer API key may call: the applications API and everything under it. */
const API_KEY_ROUTES = /^\/api\/developer\/applications(\/|$)/;
const BEARER = /^Bearer +(\S+) *$/i;

function invalidApiKey(): AppError {
  return new AppError('invalid_token', 'The API key is invalid, expired or revoked.').withHeader(
    'WWW-Authenticate',
    'Bearer realm="LoginSign", error="invalid_token", error_description="The API key is invalid, expired or revoked"',
  );
}

/**
 * The developer JSON API's guard: the developer cookie session (with the
 * JSON CSRF rule on writes), or, on `/api/developer/applications/**` only,
 * `Authorization: Bearer lsk_...`: a developer API key gives the same
 * developer context as the cookie. A key request carries no cookie, so the
 * CSRF rule does not apply to it. Elsewhere (account, keys, pages) the header
 * is ignored and only the cookie counts.
 */
@Injectable()
export class DeveloperSessionGuard extends DeveloperCookieGuard {
  constructor(
    cookieSessions: CookieSessionService,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly apiKeys: ApiKeysService,
  ) {
    super(cookieSessions, config);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithSession>();
    const header = request.headers.authorization;
    const route = request.routeOptions.url ?? '';
    if (!header || !/^bearer /i.test(header) || !API_KEY_ROUTES.test(route)) return super.canActivate(context);
    const presented = BEARER.exec(header)?.[1];
    const identity = presented ? await this.apiKeys.authenticate(presented) : null;
    if (!identity) throw invalidApiKey();
    const now = Math.floor(Date.now() / 1000);
    request.session = {
      id: `api-key:${identity.keyId}`,
      kind: 'developer',
      subjectId: identity.developerId,
      createdAt: now,
      authTime: now,
      lastSeenAt: now,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? '',
    };
    return true;
  }
}

/** The session the guard (this one or PageSessionGuard) attached. */
export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext): Session => {
  return ctx.switchToHttp().getRequest<RequestWithSession>().session!;
});
