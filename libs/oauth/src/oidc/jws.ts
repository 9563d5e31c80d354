import { createHash, KeyObject, sign, verify } from 'node:crypto';

/** The one id_token algorithm LoginSign signs with: ECDSA P-256 + SHA-256. */
export const ID_TOKEN_ALG = 'ES256';

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** A compact JWS (RFC 7515) over a JSON payload, signed ES256 with `kid` in the header. */
export function signJwt(payload: Record<string, unknown>, key: { kid: string; privateKey: KeyObject }): string {
  const header = { alg: ID_TOKEN_ALG, typ: 'JWT', kid: key.kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  // JOSE wants the raw r||s signature (64 bytes), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

export interface DecodedJwt {
  header: { alg?: string; kid?: string; typ?: string };
  payload: Record<string, unknown>;
  input: string;
  signature: Buffer;
}

/** Splits and parses a compact JWS; null when it is not one. No signature check. */
export function decodeJwt(token: string): DecodedJwt | null {
  if (typeof token !== 'string' || token.length > 8192) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as DecodedJwt['header'] | null;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as DecodedJwt['payload'] | null;
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object' || Array.isArray(payload)) return null;
    return { header, payload, input: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return null;
  }
}

/** Checks an ES256 signature made with `publicKey`. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  if (jwt.header.alg !== ID_TOKEN_ALG || jwt.signature.length !== 64) return false;
  return verify('sha256', Buffer.from(jwt.input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature);
}

/** OIDC Core 3.1.3.6: base64url of the left half of SHA-256(access_token) (ES256 -> SHA-256). */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}
