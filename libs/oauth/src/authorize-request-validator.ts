import { Injectable } from '@nestjs/common';
import { ApplicationRecord, ApplicationsService, isPublicClient, redirectUriMatches } from '@app/developer';
import { IdTokensService } from './oidc/id-tokens.service';
import { isValidS256Challenge } from './pkce';
import { authorizationScopes } from './scopes';

/** OIDC Core 3.1.2.1 `prompt` values. `select_account` is accepted: a browser has one signed-in account, which is the selection. */
export type Prompt = 'none' | 'login' | 'consent' | 'select_account';
const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];

/** A validated authorization request (RFC 6749 4.1.1 + RFC 7636 4.3). */
export interface AuthorizationRequest {
  client: ApplicationRecord;
  redirectUri: string;
  state?: string;
  scopes: string[];
  codeChallenge?: string;
  nonce?: string;
  prompts: Prompt[];
  /** Seconds: a sign-in older than this must be repeated (OIDC max_age). */
  maxAge?: number;
  /** Fills the login page's email field. */
  loginHint?: string;
  /** The subject of a verified id_token_hint issued to this client. */
  hintedSubject?: string;
}

/**
 * Where the parameters come from: the query (a plain request), a pushed
 * request (RFC 9126), or our own consent form re-posting a request that was
 * validated when the page was shown.
 */
export type RequestSource = 'query' | 'pushed' | 'consent-form';

/** Errors the user must see on our page: we cannot trust the redirect target. */
export class AuthorizePageError extends Error {}

/** Errors reported to the client at its redirect_uri (RFC 6749 4.1.2.1). */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly redirectUri: string,
    readonly error: string,
    readonly description: string,
    readonly state?: string,
  ) {
    super(description);
  }
}

export type RawParams = Record<string, string | string[] | undefined>;

/** The query of the success or error redirect, appended to the registered URI as-is. */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(key, value);
  return url.toString();
}

/** The authorize parameters a consent form carries through to the decision POST. */
export const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce'] as const;

/** What a pushed authorization request may carry (RFC 9126 2.1): the authorize parameters, the OIDC ones, never request_uri. */
export const PUSHABLE_PARAMS = [...AUTHORIZE_PARAMS, 'prompt', 'max_age', 'login_hint', 'id_token_hint'] as const;

/** max_age: a non-negative whole number of seconds (10 digits at most). */
const MAX_AGE = /^\d{1,10}$/;

@Injectable()
export class AuthorizeRequestValidator {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly idTokens: IdTokensService,
  ) {}

  /**
   * Validates in the order RFC 6749 requires: client and redirect_uri first
   * (failures -> our error page, never a redirect), then everything else
   * (failures -> redirect with `error` and the exact `state`).
   */
  async validate(params: RawParams, source: RequestSource = 'query'): Promise<AuthorizationRequest> {
    const clientId = params.client_id;
    const redirectUri = params.redirect_uri;
    if (Array.isArray(clientId) || Array.isArray(redirectUri)) throw new AuthorizePageError('client_id and redirect_uri may be sent only once.');
    if (!clientId) throw new AuthorizePageError('The request is missing client_id.');
    const client = clientId.length <= 64 ? await this.applications.findByClientId(clientId) : null;
    if (!client) throw new AuthorizePageError('This application is not registered with LoginSign.');
    if (!redirectUri) throw new AuthorizePageError('The request is missing redirect_uri.');
    // Exact string comparison (native loopback: any port, RFC 8252 7.3); no normalisation, no prefix or pattern matching.
    if (!redirectUriMatches(client, redirectUri)) throw new AuthorizePageError('The redirect_uri is not registered for this application.');

    const stateParam = params.state;
    const state = Array.isArray(stateParam) ? undefined : stateParam;
    const fail = (error: string, description: string) => new AuthorizeRedirectError(redirectUri, error, description, state);

    const repeated = Object.entries(params).find(([, v]) => Array.isArray(v));
    if (repeated) throw fail('invalid_request', `The parameter ${repeated[0]} was sent more than once.`);
    const p = params as Record<string, string | undefined>;
    if (state !== undefined && state.length > 2048) throw fail('invalid_request', 'state is too long (2048 characters at most).');
    if (!p.response_type) throw fail('invalid_request', 'response_type is required.');
    if (p.response_type !== 'code') throw fail('unsupported_response_type', 'Only response_type=code is supported.');

    if (source === 'query' && client.requirePushedAuthorizationRequests) {
      throw fail('invalid_request', 'This application accepts only pushed authorization requests (RFC 9126).');
    }
    const scopes = authorizationScopes(p.scope);

    const challenge = p.code_challenge;
    const method = p.code_challenge_method;
    if (method !== undefined && challenge === undefined) throw fail('invalid_request', 'code_challenge_method was sent without code_challenge.');
    if (challenge !== undefined) {
      // A missing method means "plain" (RFC 7636 4.3), which we refuse.
      if (method !== 'S256') throw fail('invalid_request', 'code_challenge_method must be S256 (plain is not supported).');
      if (!isValidS256Challenge(challenge)) throw fail('invalid_request', 'code_challenge must be 43 base64url characters.');
    }
    if (challenge === undefined && isPublicClient(client.type)) throw fail('invalid_request', 'code_challenge (PKCE S256) is required for public clients.');
    if (p.nonce !== undefined && p.nonce.length > 255) throw fail('invalid_request', 'nonce is too long (255 characters at most).');

    const prompts = this.prompts(p.prompt, fail);
    if (p.max_age !== undefined && !MAX_AGE.test(p.max_age)) throw fail('invalid_request', 'max_age must be a whole number of seconds, 0 or more.');
    if (p.login_hint !== undefined && p.login_hint.length > 320) throw fail('invalid_request', 'login_hint is too long (320 characters at most).');
    const hintedSubject = p.id_token_hint === undefined ? undefined : await this.hintedSubject(p.id_token_hint, client, fail);

    return {
      client,
      redirectUri,
      state,
      scopes,
      codeChallenge: challenge,
      nonce: p.nonce,
      prompts,
      maxAge: p.max_age === undefined ? undefined : Number(p.max_age),
      loginHint: p.login_hint || undefined,
      hintedSubject,
    };
  }

  /** Space-separated known values; `none` stands alone (OIDC Core 3.1.2.1). */
  private prompts(raw: string | undefined, fail: (error: string, description: string) => AuthorizeRedirectError): Prompt[] {
    const prompts = [...new Set((raw ?? '').split(' ').filter(Boolean))];
    const unknown = prompts.find((value) => !PROMPTS.includes(value));
    if (unknown !== undefined) throw fail('invalid_request', `Unsupported prompt value: ${unknown.slice(0, 40)}.`);
    if (prompts.includes('none') && prompts.length > 1) throw fail('invalid_request', 'prompt=none cannot be combined with other values.');
    return prompts as Prompt[];
  }

  /** An id_token we issued to this client (expired ones too: it is only a hint); its subject. */
  private async hintedSubject(token: string, client: ApplicationRecord, fail: (error: string, description: string) => AuthorizeRedirectError): Promise<string> {
    const claims = token.length <= 8192 ? await this.idTokens.verifyHint(token) : null;
    if (!claims) throw fail('invalid_request', 'id_token_hint is not a valid LoginSign ID token.');
    if (claims.aud !== client.clientId) throw fail('invalid_request', 'id_token_hint was issued to another client.');
    return claims.sub;
  }
}
