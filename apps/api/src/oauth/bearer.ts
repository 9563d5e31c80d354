import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { TokenProfile, TokensService } from '@app/oauth';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The bearer token's profile (RFC 6750 2.1, header only), or 401
 * `invalid_token`: a bare challenge when no token was sent, with
 * error="invalid_token" when one was sent but is unusable.
 */
export async function requireBearer(req: FastifyRequest, tokens: TokensService): Promise<TokenProfile> {
  const header = req.headers.authorization;
  if (!header) {
    throw new AppError('invalid_token', 'An access token is required (Authorization: Bearer ...).').withHeader('WWW-Authenticate', 'Bearer realm="LoginSign"');
  }
  const match = BEARER.exec(header);
  const profile = match ? await tokens.authenticate(match[1]) : null;
  if (!profile) throw invalidToken();
  return profile;
}

export function invalidToken(): AppError {
  return new AppError('invalid_token', 'The access token is invalid, expired or revoked.').withHeader(
    'WWW-Authenticate',
    'Bearer realm="LoginSign", error="invalid_token", error_description="The access token is invalid, expired or revoked"',
  );
}
