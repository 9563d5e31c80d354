import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { OAuthModule } from '@app/oauth';
import { WebhooksModule } from '@app/webhooks';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { DeveloperAccountController } from './developer-account.controller';
import { DeveloperApplicationsController } from './developer-applications.controller';
import { DeveloperUsersController } from './developer-users.controller';
import { DeveloperWebhooksController } from './developer-webhooks.controller';
import { PortalAccountController } from './portal-account.controller';
import { PortalAppsController } from './portal-apps.controller';
import { PortalAssetsController } from './portal-assets.controller';
import { PortalUsersController } from './portal-users.controller';
import { PortalWebhooksController } from './portal-webhooks.controller';
import { PortalRelayController } from './portal-relay.controller';
import { RelayLogModule } from '@app/relay';
import { PortalWriteGuard } from './portal-write.guard';
import { PortalContextService } from './portal-context.service';
import { SecretReveal } from './secret-reveal';

/**
 * The Developer Portal: its pages (`/developer`, server-rendered forms) and
 * its JSON API (`/api/developer`: accounts, applications, their users and
 * webhooks), over the same services and the same developer session.
 */
@Module({
  imports: [DeveloperModule, OAuthModule, WebhooksModule, RelayLogModule],
  controllers: [
    DeveloperAccountController,
    DeveloperApplicationsController,
    DeveloperUsersController,
    DeveloperWebhooksController,
    PortalAccountController,
    PortalAppsController,
    PortalUsersController,
    PortalWebhooksController,
    PortalRelayController,
    PortalAssetsController,
  ],
  providers: [CookieSessionService, CsrfService, PortalWriteGuard, PortalContextService, SecretReveal],
})
export class DeveloperHttpModule {}
