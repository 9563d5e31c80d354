import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { ApplicationRecord, ApplicationsService, isPublicClient } from '@app/developer';

const BASIC_CHALLENGE = 'Basic realm="LoginSign", charset="UTF-8"';

/** application/x-www-form-urlencoded decoding of one Basic credential part (RFC 6749 2.3.1). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * Client authentication at the token endpoint: client_secret_basic or
 * client_secret_post, never both, never in the query string. A public client
 * (`spa`, `native`) authenticates by `client_id` alone (method `none`; PKCE
 * protects its codes); a secret it sends is refused, since it cannot keep one.
 */
export async function authenticateClient(request: FastifyRequest, body: Record<string, string>, applications: ApplicationsService): Promise<ApplicationRecord> {
  const header = request.headers.authorization;
  let clientId: string | undefined;
  let secret: string | undefined;
  const usedBasic = typeof header === 'string' && /^basic /i.test(header);

  if (usedBasic) {
    if (body.client_secret !== undefined) throw new AppError('invalid_request', 'Use one client authentication method, not both.');
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      if (colon < 0) throw new Error('no colon');
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch {
      throw new AppError('invalid_client', 'The Basic credentials are malformed.').withHeader('WWW-Authenticate', BASIC_CHALLENGE);
    }
    if (body.client_id !== undefined && body.client_id !== clientId) {
      throw new AppError('invalid_request', 'client_id in the body differs from the Basic credentials.');
    }
  } else {
    clientId = body.client_id;
    secret = body.client_secret;
  }

  if (!usedBasic && secret === undefined && clientId) return publicClient(clientId, applications);
  // A public client has no secret, so this fails for it as well.
  const client = clientId && secret ? await applications.authenticateClient(clientId, secret) : null;
  if (!client) {
    const error = new AppError('invalid_client', 'Client authentication failed.');
    throw usedBasic ? error.withHeader('WWW-Authenticate', BASIC_CHALLENGE) : error;
  }
  return client;
}

async function publicClient(clientId: string, applications: ApplicationsService): Promise<ApplicationRecord> {
  const client = await applications.findByClientId(clientId);
  if (!client || !isPublicClient(client.type)) throw new AppError('invalid_client', 'Client authentication failed.');
  return client;
}
