import { Module } from '@nestjs/common';
import { OAuthModule, OidcModule } from '@app/oauth';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { AuthorizeController } from './authorize.controller';
import { DiscoveryController } from './discovery.controller';
import { LogoutController } from './logout.controller';
import { TokenAdminController } from './token-admin.controller';
import { TokenController } from './token.controller';
import { PushedAuthorizationController } from './par.controller';
import { UserInfoController } from './user-info.controller';
import { UserController } from './user.controller';

/**
 * What client applications and their users' browsers talk to: authorize +
 * consent, token, revocation, introspection, `/api/user`, OpenID Connect
 * discovery + JWKS, userinfo and RP-initiated logout.
 */
@Module({
  imports: [OAuthModule, OidcModule],
  controllers: [
    AuthorizeController,
    TokenController,
    TokenAdminController,
    UserController,
    UserInfoController,
    DiscoveryController,
    LogoutController,
    PushedAuthorizationController,
  ],
  providers: [CookieSessionService, CsrfService],
})
export class OAuthHttpModule {}
