import type { Socket } from 'node:net';
import { FastifyInstance } from 'fastify';

/**
 * node:cluster hands out connections, not requests: a keep-alive client would
 * stay on one process forever. After `maxRequests` requests on a connection,
 * the response says `Connection: close` and the server closes the connection
 * once that response is written, so the client reconnects and may land on
 * another process (nginx's keepalive_requests does the same).
 *
 * Not Node's `server.maxRequestsPerSocket`: that one only says `close` and
 * keeps the connection open, answering 503 to every later request on it,
 * which clients that ignore the header (load generators, some proxies) keep
 * sending. 0 turns recycling off.
 */
export function registerConnectionRecycling(fastify: FastifyInstance, maxRequests: number): void {
  if (maxRequests <= 0) return;
  const served = new WeakMap<Socket, number>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket;
    const count = (served.get(socket) ?? 0) + 1;
    served.set(socket, count);
    // Node's HTTP server ends the socket after a response whose Connection header is `close`.
    if (count >= maxRequests) reply.header('connection', 'close');
    done();
  });
}
