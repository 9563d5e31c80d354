import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig } from '@app/config';
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
import { AuthzVersion } from './authz-version';
import { PushedRequestsService } from './pushed-requests.service';
import { FreshSignInService } from './fresh-sign-in.service';

@Module({
  imports: [
    DeveloperModule,
    IdentityModule,
    WebhooksModule,
    ConnectionsModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      // @nestjs/jwt types the secret as string | Buffer; jsonwebtoken takes a KeyObject as is.
      useFactory: (config: AppConfig) => ({ secret: config.secrets.jwtSecret as unknown as Buffer, signOptions: { algorithm: 'HS256' } }),
    }),
  ],
  providers: [AuthzVersion, CodesService, GrantsService, TokensRepository, TokensService, RefreshTokensService, TokenAdminService, PushedRequestsService, FreshSignInService],
  // ConnectionsModule is re-exported: the apps' modules that use OAuth use connections too.
  exports: [
    CodesService,
    GrantsService,
    TokensRepository,
    TokensService,
    RefreshTokensService,
    TokenAdminService,
    PushedRequestsService,
    FreshSignInService,
    ConnectionsModule,
    DeveloperModule,
    IdentityModule,
  ],
})
export class OAuthModule {}
