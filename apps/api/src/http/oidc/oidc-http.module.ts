import { Module } from '@nestjs/common';
import { OidcModule } from '@app/oauth';
import { CsrfService } from '../common/csrf';
import { DiscoveryController } from './discovery.controller';
import { LogoutController } from './logout.controller';
import { TokenAdminController } from './token-admin.controller';
import { UserInfoController } from './userinfo.controller';

/** OpenID Connect over HTTP: discovery + JWKS, userinfo, revocation, introspection, RP-initiated logout. */
@Module({
  imports: [OidcModule],
  controllers: [DiscoveryController, UserInfoController, TokenAdminController, LogoutController],
  providers: [CsrfService],
})
export class OidcHttpModule {}
