import { ApplicationRecord } from '@app/developer';

/** The token endpoint's answer (RFC 6749 5.1), with the OpenID Connect and refresh-token extras. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** What the token request carried besides its form. */
export interface GrantContext {
  /** The thumbprint of the key of a valid DPoP proof (RFC 9449), or null without one. */
  dpopJkt: string | null;
}

/** One grant type of the token endpoint: the form fields of an authenticated client in, the answer out. */
export interface GrantHandler {
  readonly grantType: string;
  handle(body: Record<string, string>, client: ApplicationRecord, context: GrantContext): Promise<TokenResponse>;
}
