import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth.module';
import { ClaimsService } from './claims.service';
import { IdTokensService } from './id-tokens.service';
import { OidcGrantsService } from './oidc-grants.service';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';

const SERVICES = [SigningKeysService, ClaimsService, IdTokensService, OidcGrantsService];

/** OpenID Connect on top of the OAuth module: keys, id_tokens, claims, and the id_token and refresh_token extras of the token endpoint. */
@Module({
  imports: [OAuthModule],
  providers: [SigningKeysRepository, ...SERVICES],
  exports: [...SERVICES, OAuthModule],
})
export class OidcModule {}
