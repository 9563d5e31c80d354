import { Inject, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, hmacSha256, randomToken, safeEqual } from '@app/common';
import { readCookie, setCsrfCookie } from './cookies';
import { isCrossSite } from './csrf-rules';

/**
 * CSRF tokens of HTML forms: signed double-submit. A random `ls_csrf` cookie
 * (HttpOnly, SameSite=Lax) and a hidden `_csrf` field carrying
 * HMAC(SESSION_SECRET, cookie); the form is accepted only when they match
 * and the request is not cross-site.
 */
@Injectable()
export class CsrfService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private sign(cookieValue: string): string {
    return hmacSha256(this.config.secrets.sessionSecret, `csrf:${cookieValue}`).toString('base64url');
  }

  /** The token to put in a form; sets the cookie on first use. */
  issue(request: FastifyRequest, reply: FastifyReply): string {
    const holder = request as FastifyRequest & { csrfCookie?: string };
    let value = holder.csrfCookie ?? readCookie(request, this.config, 'csrf');
    if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
      value = randomToken();
      setCsrfCookie(reply, this.config, value);
    }
    holder.csrfCookie = value;
    return this.sign(value);
  }

  /** Throws 403 forbidden unless the form's `_csrf` matches the cookie. */
  verify(request: FastifyRequest, token: unknown): void {
    const value = readCookie(request, this.config, 'csrf');
    const valid = typeof token === 'string' && !!value && safeEqual(this.sign(value), token) && !isCrossSite(request, this.config);
    if (!valid) throw new AppError('forbidden', 'The form expired or did not come from LoginSign. Reload the page and try again.');
  }
}
