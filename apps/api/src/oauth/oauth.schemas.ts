import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SchemaObject } from '../shared/openapi';

/** Request and response bodies of the OAuth / OpenID Connect endpoints, as /openapi.json describes them. */

const CLIENT_FIELDS: Record<string, SchemaObject> = {
  client_id: { type: 'string', description: 'client_secret_post (or with Basic: the same client_id).' },
  client_secret: { type: 'string', description: 'client_secret_post only.' },
};

/** POST /oauth/token form fields. */
export const TOKEN_FORM: SchemaObject = {
  type: 'object',
  required: ['grant_type'],
  properties: {
    grant_type: { type: 'string', enum: ['authorization_code', 'refresh_token'] },
    code: { type: 'string', description: 'authorization_code' },
    redirect_uri: { type: 'string', description: 'authorization_code: the one sent to /oauth/authorize.' },
    code_verifier: { type: 'string', description: 'authorization_code: when a code_challenge was sent (PKCE S256).' },
    refresh_token: { type: 'string', description: 'refresh_token' },
    scope: { type: 'string', description: 'Optional: a subset of the granted scopes.' },
    ...CLIENT_FIELDS,
  },
};

/** POST /oauth/par form fields (RFC 9126): the authorization request's parameters, pushed. */
export const PAR_FORM: SchemaObject = {
  type: 'object',
  required: ['response_type', 'redirect_uri'],
  properties: {
    response_type: { type: 'string', enum: ['code'] },
    redirect_uri: { type: 'string', description: 'One of the registered redirect URIs (exact match).' },
    scope: { type: 'string', description: 'Space-separated; unsupported values are ignored (default `profile email`).' },
    state: { type: 'string' },
    code_challenge: { type: 'string', description: 'PKCE S256 challenge.' },
    code_challenge_method: { type: 'string', enum: ['S256'] },
    nonce: { type: 'string' },
    prompt: { type: 'string', description: '`none`, or any of `login`, `consent`, `select_account`.' },
    max_age: { type: 'string', description: 'Seconds since the last sign-in after which the user signs in again.' },
    login_hint: { type: 'string', description: "Fills the login page's email field." },
    id_token_hint: { type: 'string', description: 'An id_token of this client; with prompt=none its user must be the signed-in one.' },
    ...CLIENT_FIELDS,
  },
};

/** POST /oauth/revoke and /oauth/introspect form fields. */
export const TOKEN_ADMIN_FORM: SchemaObject = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', description: 'An access token or a refresh token of this client.' },
    token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'], description: 'Optional; the form of the token decides.' },
    ...CLIENT_FIELDS,
  },
};

export class TokenResponse {
  @ApiProperty()
  access_token: string;
  @ApiProperty({ enum: ['Bearer', 'DPoP'], description: 'DPoP when the request carried a valid DPoP proof (RFC 9449).' })
  token_type: string;
  @ApiProperty({ type: 'integer', example: 3600 })
  expires_in: number;
  @ApiProperty({ example: 'profile email' })
  scope: string;
  @ApiPropertyOptional({ description: 'With offline_access; rotated on every use.' })
  refresh_token?: string;
  @ApiPropertyOptional({ description: 'With openid.' })
  id_token?: string;
}

/** RFC 7662: `{active: false}` alone for an unknown, expired, revoked or foreign token. */
export class Introspection {
  @ApiProperty()
  active: boolean;
  @ApiPropertyOptional()
  scope?: string;
  @ApiPropertyOptional()
  client_id?: string;
  @ApiPropertyOptional({ description: 'The connection id.' })
  sub?: string;
  @ApiPropertyOptional({ type: 'integer' })
  exp?: number;
  @ApiPropertyOptional({ type: 'integer' })
  iat?: number;
  @ApiPropertyOptional({ enum: ['Bearer', 'DPoP', 'refresh_token'] })
  token_type?: string;
  @ApiPropertyOptional()
  iss?: string;
  @ApiPropertyOptional({ description: 'A DPoP-bound access token: the thumbprint of its key (RFC 9449 6.2).', type: 'object', properties: { jkt: { type: 'string' } } })
  cnf?: { jkt: string };
}

/** OIDC Core 5.3: the claims the token's scopes allow. */
export class UserInfo {
  @ApiProperty({ description: 'The connection id.' })
  sub: string;
  @ApiProperty({ pattern: '^[A-Z]{2}[0-9]{4}$' })
  global_id: string;
  @ApiPropertyOptional({ description: 'profile scope.' })
  name?: string;
  @ApiPropertyOptional({ description: 'profile scope, when the user has an image.' })
  picture?: string;
  @ApiPropertyOptional({ description: 'email scope, when an address is shared.' })
  email?: string;
  @ApiPropertyOptional()
  email_verified?: boolean;
}

/** GET /api/user. */
export class CurrentUser {
  @ApiProperty({ description: 'The connection id.', example: 'connection_id' })
  id: string;
  @ApiProperty({ pattern: '^[A-Z]{2}[0-9]{4}$', example: 'AB1234' })
  globalId: string;
  @ApiProperty({ type: String, nullable: true, description: 'null without the profile scope.', example: 'John Doe' })
  name: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The address shared with this app (the relay address when hidden), or null.' })
  email: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'An absolute URL, or null.' })
  image: string | null;
}

/** RFC 9126 2.2: where the pushed parameters can be used, once, before they expire. */
export class PushedAuthorizationResponse {
  @ApiProperty({ example: 'urn:ietf:params:oauth:request_uri:...', pattern: '^urn:ietf:params:oauth:request_uri:' })
  request_uri: string;
  @ApiProperty({ type: 'integer', example: 60 })
  expires_in: number;
}

/** OpenID Connect Discovery 1.0 / RFC 8414 metadata. */
export class ServerMetadata {
  @ApiProperty()
  issuer: string;
  @ApiProperty()
  authorization_endpoint: string;
  @ApiProperty()
  token_endpoint: string;
  @ApiProperty()
  userinfo_endpoint: string;
  @ApiProperty()
  jwks_uri: string;
  @ApiProperty()
  revocation_endpoint: string;
  @ApiProperty()
  introspection_endpoint: string;
  @ApiProperty()
  end_session_endpoint: string;
  @ApiProperty({ type: [String] })
  scopes_supported: string[];
  @ApiProperty({ type: [String] })
  response_types_supported: string[];
  @ApiProperty({ type: [String] })
  response_modes_supported: string[];
  @ApiProperty()
  authorization_response_iss_parameter_supported: boolean;
  @ApiProperty({ type: [String] })
  grant_types_supported: string[];
  @ApiProperty({ type: [String] })
  code_challenge_methods_supported: string[];
  @ApiProperty({ type: [String] })
  token_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String] })
  revocation_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String] })
  introspection_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String] })
  subject_types_supported: string[];
  @ApiProperty({ type: [String] })
  id_token_signing_alg_values_supported: string[];
  @ApiProperty({ type: [String] })
  dpop_signing_alg_values_supported: string[];
  @ApiProperty({ type: [String] })
  claims_supported: string[];
  @ApiProperty()
  claims_parameter_supported: boolean;
  @ApiProperty()
  request_parameter_supported: boolean;
  @ApiProperty()
  request_uri_parameter_supported: boolean;
  @ApiProperty()
  pushed_authorization_request_endpoint: string;
  @ApiProperty({ description: 'false: each application decides (requirePushedAuthorizationRequests).' })
  require_pushed_authorization_requests: boolean;
}

/** A public key (RFC 7517): public members only. */
export class PublicJwk {
  @ApiProperty({ example: 'EC' })
  kty: string;
  @ApiProperty()
  kid: string;
  @ApiProperty({ enum: ['RS256', 'ES256'] })
  alg: string;
  @ApiProperty({ enum: ['sig'] })
  use: string;
  @ApiPropertyOptional({ description: 'EC keys.' })
  crv?: string;
  @ApiPropertyOptional({ description: 'EC keys.' })
  x?: string;
  @ApiPropertyOptional({ description: 'EC keys.' })
  y?: string;
  @ApiPropertyOptional({ description: 'RSA keys.' })
  n?: string;
  @ApiPropertyOptional({ description: 'RSA keys.' })
  e?: string;
}

export class Jwks {
  @ApiProperty({ type: [PublicJwk] })
  keys: PublicJwk[];
}
