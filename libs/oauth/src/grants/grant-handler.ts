import { ApplicationRecord } from '@app/developer';

/** The token endpoint's answer (RFC 6749 5.1), with the OpenID Connect and refresh-token extras. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/** One grant type of the token endpoint: the form fields of an authenticated client in, the answer out. */
export interface GrantHandler {
  readonly grantType: string;
  handle(body: Record<string, string>, client: ApplicationRecord): Promise<TokenResponse>;
}
