import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SpaOriginsService } from '@app/developer';

/** Endpoints a single-page app calls from its own origin, with the methods each allows. */
const SPA_ENDPOINTS: Readonly<Record<string, string>> = {
  '/oauth/token': 'POST',
  '/oauth/revoke': 'POST',
  '/oauth/userinfo': 'GET, POST',
  '/api/user': 'GET',
};

/** Public metadata anyone may read from any origin. */
const PUBLIC_ENDPOINTS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json']);

const ALLOWED_HEADERS = 'authorization, content-type, dpop';
/** Errors and DPoP nonces must be readable by the calling script. */
const EXPOSED_HEADERS = 'WWW-Authenticate, DPoP-Nonce';
const PREFLIGHT_MAX_AGE = '600';

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0];

function addVaryOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader('vary');
  reply.header('vary', vary ? `${String(vary)}, Origin` : 'Origin');
}

/**
 * CORS as the contract has it: discovery and JWKS for every origin; the
 * token, revocation, userinfo and /api/user endpoints for the origins of
 * `spa` applications' redirect URIs only (error answers included), nothing
 * for any other origin. Cookie-authenticated endpoints are not listed, so
 * they never answer a cross-origin script. No credentials (cookies) are
 * allowed: these endpoints take tokens in headers or forms.
 */
export function registerCors(fastify: FastifyInstance, spaOrigins: SpaOriginsService): void {
  const allowedOrigin = async (request: FastifyRequest): Promise<string | null> => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string') return null;
    // A failed lookup (database down) answers without CORS rather than failing the request.
    return (await spaOrigins.allows(origin).catch(() => false)) ? origin : null;
  };

  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS') return;
    const path = pathOf(request);
    if (PUBLIC_ENDPOINTS.has(path)) {
      return reply.code(204).headers({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-max-age': PREFLIGHT_MAX_AGE }).send();
    }
    if (!Object.hasOwn(SPA_ENDPOINTS, path)) return;
    const methods = SPA_ENDPOINTS[path];
    addVaryOrigin(reply);
    const origin = await allowedOrigin(request);
    if (origin) {
      reply.headers({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': methods,
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': PREFLIGHT_MAX_AGE,
      });
    }
    return reply.code(204).send();
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'OPTIONS') return payload;
    const path = pathOf(request);
    if (PUBLIC_ENDPOINTS.has(path)) {
      reply.header('access-control-allow-origin', '*');
      return payload;
    }
    if (!Object.hasOwn(SPA_ENDPOINTS, path)) return payload;
    addVaryOrigin(reply);
    const origin = await allowedOrigin(request);
    if (origin) reply.headers({ 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS });
    return payload;
  });
}
