import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth.module';
import { ClaimsService } from './claims.service';
import { IdTokensService } from './id-tokens.service';
import { OidcGrantsService } from './oidc-grants.service';
import { RefreshTokensService } from './refresh-tokens.service';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';
import { TokenAdminService } from './token-admin.service';

const SERVICES = [SigningKeysService, ClaimsService, IdTokensService, RefreshTokensService, OidcGrantsService, TokenAdminService];

/** OpenID Connect on top of the OAuth module: keys, id_tokens, refresh tokens, revocation, introspection. */
@Module({
  imports: [OAuthModule],
  providers: [SigningKeysRepository, ...SERVICES],
  exports: [...SERVICES, OAuthModule],
})
export class OidcModule {}
