import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { Duplex } from 'node:stream';
import { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { sendError } from './error.filter';

/**
 * Headers of answers written before or outside routing (the HTTP parser
 * refused the request, a URL that cannot be routed), where the security
 * headers plugin does not run: the same protections as every other answer.
 */
export const BARE_SECURITY_HEADERS: Record<string, string> = {
  // The app's policy (bootstrap.ts), so an HTML error page still loads its stylesheet.
  'content-security-policy': "default-src 'self';img-src 'self' https: data:;style-src 'self';script-src 'self';frame-ancestors 'none';base-uri 'none';object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Errors Fastify's router raises itself; answered like any other error (JSON or page by path). */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  for (const [name, value] of Object.entries(BARE_SECURITY_HEADERS)) reply.header(name, value);
  reply.header('x-request-id', request.id);
  const appError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError('not_found', 'No such endpoint or resource.')
      : new AppError('invalid_request', error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid (bad percent-encoding).' : 'The request is malformed.');
  sendError(request, reply, appError);
}

/** An answer in the error shape every endpoint uses (`{ error, error_description }`), for a connection that is then closed. */
function bareAnswer(description: string): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ error: 'invalid_request', error_description: description });
  const headers = {
    ...BARE_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': randomUUID(),
    connection: 'close',
  };
  return { headers, body };
}

/** The same, as raw HTTP/1.1 bytes (the parser gave up: there is no response object). */
function rawAnswer(status: number, description: string): string {
  const { headers, body } = bareAnswer(description);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Connections already answered: the parser reports its error again for every later chunk. */
const answered = new WeakSet<Duplex>();
/** How long a refused connection may keep sending before it is cut. */
const LINGER_MS = 5_000;

/**
 * Requests the HTTP parser refuses (bad method, header, framing; headers too
 * large; timeouts): the answer, then a half-close. What the client still
 * sends is read and dropped until it closes (or LINGER_MS), so the answer is
 * not lost to a reset.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  const [status, description] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive.']
        : [400, 'The HTTP request is malformed.'];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawAnswer(status, description));
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Errors the HTTP server would answer with an empty body: an `Expect` other
 * than 100-continue (417), and an HTTP/1.1 request without `Host` (400).
 */
export function registerHttpLayerErrors(fastify: FastifyInstance): void {
  const server = fastify.server;
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const { headers, body } = bareAnswer('Only "Expect: 100-continue" is supported.');
    response.writeHead(417, headers).end(body);
  });
  fastify.addHook('onRequest', (request) => {
    const raw = request.raw;
    if (raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1 && !raw.headers.host) {
      return Promise.reject(new AppError('invalid_request', 'The Host header is missing.'));
    }
    return Promise.resolve();
  });
}
