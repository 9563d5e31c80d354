import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, JWK, jwtVerify } from 'jose';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, REDIS, sha256, sha256Hex } from '@app/common';

/** The proof algorithms we accept (discovery's dpop_signing_alg_values_supported); Ed25519 is the fully-specified name of EdDSA with that curve. */
export const DPOP_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519'] as const;

/** A proof's `iat` may be this old (RFC 9449 11.1: a short window) ... */
const MAX_AGE_SECONDS = 60;
/** ... or this far ahead (clock skew). */
const MAX_SKEW_SECONDS = 5;
/** Longer than any proof a client needs (an RSA 4096 jwk included). */
const PROOF_MAX_LENGTH = 4096;
const JTI_MAX_LENGTH = 256;
/** JWK members that exist only in private (or symmetric) keys. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What a proof is checked against: the request it came with. */
export interface DpopRequest {
  method: string;
  /** The request's path (a query string is ignored); the proof's `htu` must be PUBLIC_URL + this path. */
  path: string;
  /** At a resource endpoint: the access token, whose hash the proof's `ath` must carry. */
  accessToken?: string;
}

const invalidProof = (description: string) => new AppError('invalid_dpop_proof', description);

/** `htu` compared as RFC 9449 4.3 says: without query and fragment, after URL normalisation (case, default port). */
function normalisedHtu(value: string): string | null {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return null;
  }
}

/**
 * DPoP proofs (RFC 9449 4.3): a `dpop+jwt` signed by the public key it
 * embeds, for this method and URL, issued within the last minute, carrying
 * the access token's hash at resource endpoints, and never seen before (its
 * `jti` is remembered in Redis for the window). No server nonce is required.
 * A bad proof is 400 `invalid_dpop_proof` (resource endpoints answer 401).
 */
@Injectable()
export class DpopService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The RFC 7638 thumbprint of the proof's key when `header` (the request's
   * DPoP header) is a valid proof for `request`; throws invalid_dpop_proof.
   */
  async verify(header: string | string[] | undefined, request: DpopRequest): Promise<string> {
    if (Array.isArray(header)) throw invalidProof('Send exactly one DPoP header.');
    if (typeof header !== 'string' || header.length === 0) throw invalidProof('A DPoP proof is required (the DPoP header).');
    if (header.length > PROOF_MAX_LENGTH) throw invalidProof('The DPoP proof is too long.');

    let jwk: JWK;
    let alg: string;
    try {
      const protectedHeader = decodeProtectedHeader(header);
      if (protectedHeader.typ !== 'dpop+jwt') throw invalidProof('The DPoP proof must have typ dpop+jwt.');
      alg = String(protectedHeader.alg);
      if (!(DPOP_ALGS as readonly string[]).includes(alg)) throw invalidProof(`The DPoP proof must be signed with one of ${DPOP_ALGS.join(', ')}.`);
      if (!protectedHeader.jwk || typeof protectedHeader.jwk !== 'object') throw invalidProof('The DPoP proof must carry its public key (jwk).');
      jwk = protectedHeader.jwk;
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw invalidProof('The DPoP proof is not a JWT.');
    }
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw invalidProof('The DPoP proof key must be a public key.');

    let claims: Record<string, unknown>;
    try {
      const key = await importJWK(jwk, alg);
      claims = (await jwtVerify(header, key, { algorithms: [alg], typ: 'dpop+jwt' })).payload;
    } catch {
      throw invalidProof('The DPoP proof signature or key is invalid.');
    }

    const { jti, htm, htu, iat, ath } = claims;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > JTI_MAX_LENGTH) throw invalidProof('The DPoP proof needs a jti.');
    if (htm !== request.method) throw invalidProof('The DPoP proof was made for another HTTP method (htm).');
    const expectedHtu = normalisedHtu(this.config.publicUrl + request.path.split('?')[0]);
    if (typeof htu !== 'string' || normalisedHtu(htu) !== expectedHtu) throw invalidProof('The DPoP proof was made for another URL (htu).');
    const now = Math.floor(Date.now() / 1000);
    if (typeof iat !== 'number' || iat < now - MAX_AGE_SECONDS || iat > now + MAX_SKEW_SECONDS) throw invalidProof('The DPoP proof is too old or from the future (iat).');
    if (request.accessToken !== undefined && ath !== sha256(request.accessToken).toString('base64url')) {
      throw invalidProof('The DPoP proof does not carry the hash of this access token (ath).');
    }
    // Checked last: a proof refused for another reason does not use up its jti.
    const fresh = await this.redis.set(`dpop-jti:{${sha256Hex(jti)}}`, '1', 'EX', MAX_AGE_SECONDS + MAX_SKEW_SECONDS, 'NX');
    if (fresh !== 'OK') throw invalidProof('This DPoP proof was already used (jti).');
    return calculateJwkThumbprint(jwk, 'sha256');
  }
}
