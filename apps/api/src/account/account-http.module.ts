import { Module } from '@nestjs/common';
import { IdentityModule } from '@app/identity';
import { OAuthModule } from '@app/oauth';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { AccountApiController } from './account-api.controller';
import { AccountCenterController } from './account-center.controller';
import { DevMailboxController } from './dev-mailbox.controller';
import { AccountPagesController } from './account-pages.controller';
import { SameSiteGuard } from './same-site.guard';
import { SecuritySessionsController } from './security-sessions.controller';
import { SessionsApiController } from './sessions-api.controller';
import { PasswordResetApiController, PasswordResetPagesController } from './password-reset.controller';

/** End-user account pages (sign-up, login, the account center, the dev mailbox) and their JSON equivalents. */
@Module({
  imports: [IdentityModule, OAuthModule],
  controllers: [
    AccountApiController,
    AccountPagesController,
    AccountCenterController,
    SecuritySessionsController,
    SessionsApiController,
    DevMailboxController,
    PasswordResetApiController,
    PasswordResetPagesController,
  ],
  providers: [CookieSessionService, CsrfService, SameSiteGuard],
})
export class AccountHttpModule {}
