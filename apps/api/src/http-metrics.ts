import { FastifyInstance } from 'fastify';
import { httpRequestDuration } from '@app/common';

/**
 * Times every answered request into http_request_duration_seconds. The route
 * label is the matched route pattern (`/oauth/authorize`,
 * `/api/developer/applications/:appId/users`), never the raw URL; requests
 * that match no route share the label `unmatched`.
 */
export function recordHttpMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
