import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { IdentityModule } from '@app/identity';
import { OAuthModule } from '@app/oauth';
import { WebhooksModule } from '@app/webhooks';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { DeveloperAccountController } from './developer-account.controller';
import { DeveloperApiKeysController } from './developer-api-keys.controller';
import { DeveloperApplicationsController } from './developer-applications.controller';
import { DeveloperUsersController } from './developer-users.controller';
import { DeveloperWebhooksController } from './developer-webhooks.controller';
import { PortalAccountController } from './portal-account.controller';
import { PortalApiKeysController } from './portal-api-keys.controller';
import { PortalAppsController } from './portal-apps.controller';
import { PortalAssetsController } from './portal-assets.controller';
import { PortalUsersController } from './portal-users.controller';
import { PortalWebhooksController } from './portal-webhooks.controller';
import { PortalRelayController } from './portal-relay.controller';
import { RelayLogModule } from '@app/relay';
import { PortalWriteGuard } from './portal-write.guard';
import { PortalContextService } from './portal-context.service';
import { SecretReveal } from './secret-reveal';
import { DeveloperPasswordResetApiController, DeveloperPasswordResetPagesController } from './developer-password-reset.controller';
import { DeveloperPasswordResetService } from './developer-password-reset.service';
import { PortalTwoStepController } from './portal-two-step.controller';
import { LoginSecondStep } from '../shared/login-second-step.service';
import { PendingSecondStepService } from '@app/common';

/**
 * The Developer Portal: its pages (`/developer`, server-rendered forms) and
 * its JSON API (`/api/developer`: accounts, API keys, applications, their
 * users and webhooks), over the same services and the same developer session.
 */
@Module({
  imports: [DeveloperModule, IdentityModule, OAuthModule, WebhooksModule, RelayLogModule],
  controllers: [
    DeveloperAccountController,
    DeveloperApiKeysController,
    DeveloperApplicationsController,
    DeveloperUsersController,
    DeveloperWebhooksController,
    PortalAccountController,
    PortalApiKeysController,
    PortalAppsController,
    PortalUsersController,
    PortalWebhooksController,
    PortalRelayController,
    PortalAssetsController,
    DeveloperPasswordResetApiController,
    DeveloperPasswordResetPagesController,
    PortalTwoStepController,
  ],
  providers: [CookieSessionService, CsrfService, PortalWriteGuard, PortalContextService, SecretReveal, DeveloperPasswordResetService, PendingSecondStepService, LoginSecondStep],
})
export class DeveloperHttpModule {}
