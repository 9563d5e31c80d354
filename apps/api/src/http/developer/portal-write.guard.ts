import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError } from '@app/common';
import { isCrossSite, isJsonRequest } from '../common/csrf-rules';

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
    if (isCrossSite(request, this.config)) throw new AppError('forbidden', 'Cross-site requests are not allowed.');
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (hasBody && !isJsonRequest(request)) throw new AppError('forbidden', 'Developer Portal writes must send application/json.');
    return true;
  }
}
