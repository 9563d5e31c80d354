import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth.module';
import { ClaimsService } from './claims.service';
import { IdTokensService } from './id-tokens.service';
import { AuthorizationCodeGrant } from '../grants/authorization-code.grant';
import { RefreshTokenGrant } from '../grants/refresh-token.grant';
import { TokenGrants } from '../grants/token-grants';
import { AuthorizeRequestValidator } from '../authorize-request-validator';

const SERVICES = [ClaimsService, IdTokensService, TokenGrants];
/** The authorization request checks verify id_token_hint, so they live with the id_tokens. */
const AUTHORIZE = [AuthorizeRequestValidator];

/**
 * OpenID Connect on top of the OAuth module (which holds the signing keys): id_tokens, claims, and the
 * token endpoint's grant handlers (libs/oauth/src/grants), which add id_tokens.
 */
@Module({
  imports: [OAuthModule],
  providers: [AuthorizationCodeGrant, RefreshTokenGrant, ...SERVICES, ...AUTHORIZE],
  exports: [...SERVICES, ...AUTHORIZE, OAuthModule],
})
export class OidcModule {}
