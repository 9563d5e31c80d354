import { ArgumentsHost, Catch, ExceptionFilter, Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, decrypt, encrypt, REDIS, Session, SessionService, sha256Hex } from '@app/common';
import { ApplicationsService, DeveloperRecord, DevelopersService } from '@app/developer';
import { createValidationPipe } from '../shared/body';
import { sendError } from '../shared/error.filter';
import { clearSessionCookie, readCookie, setSessionCookie } from '../shared/cookies';
import { safeReturnTo } from '../account/return-to';
import { CsrfService } from '../shared/csrf.service';
import { presentApplication } from './developer-applications.controller';
import { PortalApp, RevealedSecrets } from './portal.view';

export type Form = Record<string, unknown>;

/** A form field as one string (a repeated field counts as missing). */
export function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

/** "Invalid field: password must be..." reads better on a form as "Password must be...". */
export function formMessage(error: AppError): string {
  const text = error.description.replace(/^Invalid field: /, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Pages carry CSRF tokens, secrets and personal data: never cached. */
export function sendPage(reply: FastifyReply, status: number, body: string) {
  reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** Every POST ends with a 303 to a page the browser GETs. */
export function seeOther(reply: FastifyReply, location: string) {
  reply.status(303).header('cache-control', 'no-store').header('location', location).send();
}

export const PORTAL_HOME = '/developer/apps';

/** `return_to` of the portal login: a same-origin path inside the portal, else the apps list. */
export function portalReturnTo(value: unknown): string {
  const path = safeReturnTo(value);
  return /^\/developer(\/|\?|$)/.test(path) ? path : PORTAL_HOME;
}

export interface PortalContext {
  session: Session;
  developer: DeveloperRecord;
  csrf: string;
}

/** Thrown by `require` without a session; the controllers turn it into a 303 to the login page. */
export class SignInRequired extends Error {
  constructor(readonly returnTo: string) {
    super('sign in required');
  }
}

/**
 * Developer sessions as the portal pages use them: the same `ls_dev` cookie
 * and Redis sessions as the JSON API (a session from either works on both).
 */
@Injectable()
export class PortalSessions {
  constructor(
    private readonly sessions: SessionService,
    private readonly developers: DevelopersService,
    private readonly apps: ApplicationsService,
    private readonly csrf: CsrfService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Every portal page and action: the signed-in developer, the form's CSRF check, a token for the next form. */
  async context(request: FastifyRequest, reply: FastifyReply, form?: Form): Promise<PortalContext> {
    const signedIn = await this.require(request);
    if (form) this.csrf.verify(request, form._csrf);
    return { ...signedIn, csrf: this.csrf.issue(request, reply) };
  }

  /** The same for pages of one application, which must be the developer's (else 404). */
  async appContext(request: FastifyRequest, reply: FastifyReply, appId: string, form?: Form): Promise<PortalContext & { app: PortalApp }> {
    const context = await this.context(request, reply, form);
    return { ...context, app: presentApplication(await this.apps.getOwned(context.developer.id, appId)) };
  }

  current(request: FastifyRequest): Promise<Session | null> {
    return this.sessions.get(readCookie(request, this.config, 'developer'), 'developer');
  }

  /** The signed-in developer, or SignInRequired (GET pages come back here after login). */
  async require(request: FastifyRequest): Promise<{ session: Session; developer: DeveloperRecord }> {
    const session = await this.current(request);
    const developer = session ? await this.developers.findById(session.subjectId) : null;
    if (!session || !developer) throw new SignInRequired(request.method === 'GET' ? portalReturnTo(request.url) : PORTAL_HOME);
    return { session, developer };
  }

  /** A fresh session id at every login (no fixation); any previous session of this browser ends. */
  async start(request: FastifyRequest, reply: FastifyReply, developerId: number): Promise<void> {
    await this.end(request);
    const session = await this.sessions.create('developer', developerId);
    setSessionCookie(reply, this.config, 'developer', session.id);
  }

  async end(request: FastifyRequest, reply?: FastifyReply): Promise<void> {
    const current = await this.current(request);
    if (current) await this.sessions.destroy(current);
    if (reply) clearSessionCookie(reply, this.config, 'developer');
  }
}

/** How long a just-issued secret waits for the page that shows it. */
const REVEAL_TTL_SECONDS = 600;

/**
 * Secrets to show once, after the POST that created them and its 303: kept
 * server-side (never in a URL), encrypted, bound to the developer's session
 * and the application, and deleted by the read that shows them (GETDEL).
 */
@Injectable()
export class SecretReveal {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private key(session: Session, appId: string) {
    return `portal-reveal:${sha256Hex(session.id)}:${appId}`;
  }

  async put(session: Session, appId: string, secrets: RevealedSecrets): Promise<void> {
    await this.redis.set(this.key(session, appId), encrypt(this.config.secrets.dataEncryptionKey, JSON.stringify(secrets)), 'EX', REVEAL_TTL_SECONDS);
  }

  async take(session: Session, appId: string): Promise<RevealedSecrets | null> {
    const sealed = await this.redis.getdel(this.key(session, appId));
    return sealed ? (JSON.parse(decrypt(this.config.secrets.dataEncryptionKey, sealed)) as RevealedSecrets) : null;
  }
}

/** Form input checked by the same DTO class (and the same global pipe settings) as the JSON API. */
const pipe = createValidationPipe();
export async function validated<T extends object>(metatype: new () => T, value: Record<string, unknown>): Promise<T> {
  return (await pipe.transform(value, { type: 'body', metatype })) as T;
}

/** SignInRequired -> 303 to the portal login; anything else -> the usual error page. */
@Catch()
export class PortalErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof SignInRequired) {
      const query = exception.returnTo === PORTAL_HOME ? '' : `?${new URLSearchParams({ return_to: exception.returnTo })}`;
      return seeOther(reply, `/developer/login${query}`);
    }
    sendError(request, reply, exception);
  }
}
