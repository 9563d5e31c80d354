import { Injectable } from '@nestjs/common';
import { AppError } from '@app/common';
import { AuthorizationCodeGrant } from './authorization-code.grant';
import { GrantHandler } from './grant-handler';
import { RefreshTokenGrant } from './refresh-token.grant';

/** Grant types that exist in OAuth but that LoginSign clients may not use. */
const NOT_ALLOWED_GRANTS = new Set(['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']);

/** The token endpoint's grant types, one handler each, keyed by grant_type. */
@Injectable()
export class TokenGrants {
  private readonly handlers: ReadonlyMap<string, GrantHandler>;

  constructor(authorizationCode: AuthorizationCodeGrant, refreshToken: RefreshTokenGrant) {
    this.handlers = new Map<string, GrantHandler>([authorizationCode, refreshToken].map((h) => [h.grantType, h]));
  }

  /** The handler of `grantType`; 400 invalid_request when missing, unauthorized_client or unsupported_grant_type otherwise. */
  handler(grantType: string | undefined): GrantHandler {
    if (!grantType) throw new AppError('invalid_request', 'grant_type is required.');
    const handler = this.handlers.get(grantType);
    if (handler) return handler;
    if (NOT_ALLOWED_GRANTS.has(grantType)) throw new AppError('unauthorized_client', `This client may not use the ${grantType} grant.`);
    throw new AppError('unsupported_grant_type', 'Only grant_type=authorization_code and refresh_token are supported.');
  }
}
