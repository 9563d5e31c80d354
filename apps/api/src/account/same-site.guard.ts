import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { refuseCrossSiteWrite } from '../shared/csrf-rules';

/**
 * The CSRF rule for JSON account writes that may run without a
 * session (sign-up, login, logout): a foreign Origin or
 * `Sec-Fetch-Site: cross-site` is refused with 403 before the body is read.
 */
@Injectable()
export class SameSiteGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // Sign-up/login are not cookie-authorised: a non-JSON body gets 415 from @JsonBody instead.
    refuseCrossSiteWrite(request, this.config, false);
    return true;
  }
}
