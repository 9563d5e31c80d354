import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DeveloperModule } from '@app/developer';
import { IdentityModule } from '@app/identity';
import { WebhooksModule } from '@app/webhooks';
import { AccountCenterService } from './account-center.service';
import { AuthorizeRequestValidator } from './authorize-request';
import { CodesService } from './codes.service';
import { ConnectionAdminService } from './connection-admin.service';
import { ConnectionsService } from './connections.service';
import { TokensService } from './tokens.service';
import { AuthzVersion } from './token-cache';

@Module({
  imports: [
    DeveloperModule,
    IdentityModule,
    WebhooksModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      // @nestjs/jwt types the secret as string | Buffer; jsonwebtoken takes a KeyObject as is.
      useFactory: (config: AppConfig) => ({ secret: config.secrets.jwtSecret as unknown as Buffer, signOptions: { algorithm: 'HS256' } }),
    }),
  ],
  providers: [AuthzVersion, AccountCenterService, AuthorizeRequestValidator, CodesService, ConnectionsService, ConnectionAdminService, TokensService],
  exports: [AccountCenterService, AuthorizeRequestValidator, CodesService, ConnectionsService, ConnectionAdminService, TokensService, DeveloperModule, IdentityModule],
})
export class OAuthModule {}
