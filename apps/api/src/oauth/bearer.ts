import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { DpopService, TokenProfile, TokensService } from '@app/oauth';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The access token's profile, from `Authorization: Bearer <token>` (RFC 6750
 * 2.1, header only) or `Authorization: DPoP <token>` with a fresh proof for
 * this request (RFC 9449 7). Otherwise 401: `invalid_token` (a bare challenge
 * when no token was sent), or `invalid_dpop_proof` for a bad proof. A token
 * bound to a DPoP key is refused as Bearer; an unbound one is refused as DPoP.
 */
export async function requireAccessToken(req: FastifyRequest, tokens: TokensService, dpop: DpopService): Promise<TokenProfile> {
  const header = req.headers.authorization;
  if (!header) {
    throw new AppError('invalid_token', 'An access token is required (Authorization: Bearer ...).').withHeader('WWW-Authenticate', 'Bearer realm="LoginSign"');
  }
  const dpopMatch = DPOP.exec(header);
  if (dpopMatch) {
    const token = dpopMatch[1];
    let jkt: string;
    try {
      jkt = await dpop.verify(req.headers.dpop, { method: req.method, path: req.url, accessToken: token });
    } catch (error) {
      if (error instanceof AppError && error.code === 'invalid_dpop_proof') throw new ResourceDpopProofError(error.description);
      throw error;
    }
    const profile = await tokens.authenticate(token);
    if (!profile || profile.jkt !== jkt) throw invalidToken('DPoP');
    return profile;
  }
  const match = BEARER.exec(header);
  const profile = match ? await tokens.authenticate(match[1]) : null;
  // A DPoP-bound token is useless without its key (RFC 9449 7.2).
  if (!profile || profile.jkt) throw invalidToken('Bearer');
  return profile;
}

export function invalidToken(scheme: 'Bearer' | 'DPoP' = 'Bearer'): AppError {
  return new AppError('invalid_token', 'The access token is invalid, expired or revoked.').withHeader(
    'WWW-Authenticate',
    `${scheme} realm="LoginSign", error="invalid_token", error_description="The access token is invalid, expired or revoked"`,
  );
}

/** RFC 9449 7.1: at a resource endpoint a bad proof is 401 with a DPoP challenge. */
class ResourceDpopProofError extends AppError {
  override readonly status = 401;

  constructor(description: string) {
    super('invalid_dpop_proof', description);
    this.withHeader('WWW-Authenticate', `DPoP realm="LoginSign", error="invalid_dpop_proof", error_description="${description.replace(/["\\]/g, '')}"`);
  }
}
