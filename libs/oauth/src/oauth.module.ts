import { Module } from '@nestjs/common';
import { AccessSignalsModule } from '@app/common';
import { DeveloperModule } from '@app/developer';
import { IdentityModule } from '@app/identity';
import { WebhooksModule } from '@app/webhooks';
import { ConnectionsModule } from '@app/connections';
import { CodesService } from './codes.service';
import { GrantsService } from './grants/grants.service';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';
import { RefreshTokensService } from './refresh-tokens.service';
import { TokenAdminService } from './token-admin.service';
import { SigningKeysRepository } from './oidc/signing-keys.repository';
import { SigningKeysService } from './oidc/signing-keys.service';
import { DpopService } from './dpop.service';
import { PushedRequestsService } from './pushed-requests.service';
import { FreshSignInService } from './fresh-sign-in.service';

/** What the OAuth module offers the apps and OidcModule (the signing keys' repository stays inside). */
const SERVICES = [
  CodesService,
  GrantsService,
  SigningKeysService,
  DpopService,
  TokensRepository,
  TokensService,
  RefreshTokensService,
  TokenAdminService,
  PushedRequestsService,
  FreshSignInService,
];

@Module({
  imports: [AccessSignalsModule, DeveloperModule, IdentityModule, WebhooksModule, ConnectionsModule],
  providers: [SigningKeysRepository, ...SERVICES],
  // ConnectionsModule is re-exported: the apps' modules that use OAuth use connections too.
  exports: [...SERVICES, ConnectionsModule, DeveloperModule, IdentityModule],
})
export class OAuthModule {}
