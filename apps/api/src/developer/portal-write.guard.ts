import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { refuseCrossSiteWrite } from '../shared/csrf-rules';

/**
 * The JSON CSRF rule of DeveloperSessionGuard for the portal writes that run
 * without a session (signup, login, logout): a foreign Origin, cross-site
 * Fetch Metadata or a non-JSON body -> 403 `forbidden`. Stops login CSRF
 * (signing a victim into an attacker's account) and cross-site logout.
 */
@Injectable()
export class PortalWriteGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    refuseCrossSiteWrite(request, this.config, true);
    return true;
  }
}
