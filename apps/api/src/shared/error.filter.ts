import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { errorPage } from './layout';
import { toAppError } from './errors';

/** Paths answered with JSON errors; everything else is a page for people. */
export function isJsonPath(url: string): boolean {
  const path = url.split('?')[0];
  if (path === '/oauth/authorize' || path === '/oauth/authorize/decision' || path === '/oauth/logout') return false;
  return /^\/(api|oauth|health|metrics|\.well-known)(\/|$)/.test(path);
}

/** Renders any error as `{error, error_description}` (JSON paths) or as an HTML page. */
export function sendError(request: FastifyRequest, reply: FastifyReply, exception: unknown): void {
  const { appError, unexpected } = toAppError(exception);
  if (unexpected) request.log.error({ err: exception }, 'unhandled error');
  reply.status(appError.status).header('cache-control', 'no-store');
  for (const [name, value] of Object.entries(appError.headers)) reply.header(name, value);
  if (isJsonPath(request.url)) {
    reply.type('application/json; charset=utf-8').send({ error: appError.code, error_description: appError.description });
  } else {
    const title = appError.status >= 500 ? 'Something went wrong' : appError.status === 404 ? 'Page not found' : 'This request cannot be completed';
    reply.type('text/html; charset=utf-8').send(errorPage(title, appError.description));
  }
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    sendError(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), exception);
  }
}
