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
import { LoginSecondStep } from '../shared/login-second-step.service';
import { PendingSecondStepService } from '@app/common';
import { LoginSecondStepController } from './login-second-step.controller';
import { SecurityTwoStepController, TwoStepSectionRenderer } from './security-two-step.controller';
import { LoginPasskeyController } from './login-passkey.controller';
import { PasskeysApiController, PasskeysSectionRenderer, SecurityPasskeysController } from './security-passkeys.controller';
import { PasskeyAssetsController } from './passkey-assets.controller';

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
    LoginSecondStepController,
    SecurityTwoStepController,
    LoginPasskeyController,
    PasskeysApiController,
    SecurityPasskeysController,
    PasskeyAssetsController,
  ],
  providers: [CookieSessionService, CsrfService, SameSiteGuard, PendingSecondStepService, LoginSecondStep, TwoStepSectionRenderer, PasskeysSectionRenderer],
})
export class AccountHttpModule {}
