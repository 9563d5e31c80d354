import { Controller, Get, Inject, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DPOP_ALGS, SIGNING_ALGS, SigningKeysService, SUPPORTED_SCOPES } from '@app/oauth';
import { ApiEndpoint } from '../shared/openapi';
import { Jwks, ServerMetadata } from './oauth.schemas';

/** `none`: public clients (spa, native) send only client_id, with PKCE. */
const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'none'];

/**
 * OpenID Connect Discovery 1.0 and RFC 8414 metadata (one document, both
 * paths), listing only what LoginSign really does, plus the JWKS.
 */
@Controller('.well-known')
export class DiscoveryController {
  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private metadata() {
    const base = this.config.publicUrl;
    return {
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      userinfo_endpoint: `${base}/oauth/userinfo`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      end_session_endpoint: `${base}/oauth/logout`,
      scopes_supported: [...SUPPORTED_SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      // RFC 9207: every redirect back to the client names the issuer.
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: CLIENT_AUTH,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH,
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH,
      // `sub` is the connection id: one per (application, user), unrelated
      // across applications, so two apps cannot correlate a user by `sub`.
      // That is what OIDC calls a pairwise subject identifier.
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: [...SIGNING_ALGS],
      dpop_signing_alg_values_supported: [...DPOP_ALGS],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'global_id', 'name', 'picture', 'email', 'email_verified'],
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      // RFC 9126: PAR for every client; required only by applications that ask for it.
      pushed_authorization_request_endpoint: `${base}/oauth/par`,
      require_pushed_authorization_requests: false,
    };
  }

  @ApiEndpoint({ summary: 'OpenID Connect Discovery metadata', response: ServerMetadata })
  @Get('openid-configuration')
  openidConfiguration(@Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('cache-control', 'public, max-age=300');
    return this.metadata();
  }

  @ApiEndpoint({ summary: 'OAuth 2.0 Authorization Server Metadata (RFC 8414)', response: ServerMetadata })
  @Get('oauth-authorization-server')
  authorizationServer(@Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('cache-control', 'public, max-age=300');
    return this.metadata();
  }

  /** Active and not-yet-retired public keys (RFC 7517). */
  @ApiEndpoint({ summary: 'The public signing keys (JWKS)', response: Jwks })
  @Get('jwks.json')
  async jwks(@Res({ passthrough: true }) reply: FastifyReply) {
    // Short: a client that sees an unknown kid refetches and must find the new key.
    reply.header('cache-control', 'public, max-age=60');
    // Creates the first keys on a fresh install (from memory otherwise).
    await Promise.all(SIGNING_ALGS.map((alg) => this.keys.activeKey(alg)));
    return { keys: (await this.keys.publishedKeys()).map((k) => k.jwk) };
  }
}
