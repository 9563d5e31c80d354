import { FastifyInstance } from 'fastify';

/** Most a refused body is read (and discarded) so that its 413 reaches the client. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 30_000;

/**
 * A body over the limit is refused before it is read. Closing the connection
 * then, with the rest of the body unread, makes the kernel reset it: the
 * client sees EPIPE/ECONNRESET instead of the 413. Instead the connection is
 * kept, the rest of the body read and discarded (the HTTP server does that for
 * a request nobody read), and the connection is closed only when a client
 * sends more than DRAIN_MAX_BYTES or takes longer than DRAIN_MAX_MS.
 */
export function registerOversizedBodyDrain(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (_request, reply) => {
    if (reply.statusCode === 413) reply.removeHeader('connection');
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const raw = request.raw;
    if (reply.statusCode !== 413 || raw.readableEnded) return;
    let received = 0;
    const close = () => raw.socket?.destroy();
    const timer = setTimeout(close, DRAIN_MAX_MS);
    timer.unref();
    raw.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > DRAIN_MAX_BYTES) close();
    });
    raw.once('end', () => clearTimeout(timer));
    raw.once('close', () => clearTimeout(timer));
    raw.resume();
  });
}
