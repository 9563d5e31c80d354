import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { OAuthModule } from '@app/oauth';
import { WebhooksModule } from '@app/webhooks';
import { CsrfService } from '../common/csrf';
import { PortalAccountController } from './portal-account.controller';
import { PortalAppsController } from './portal-apps.controller';
import { PortalAssetsController } from './portal-assets.controller';
import { PortalUsersController } from './portal-users.controller';
import { PortalWebhooksController } from './portal-webhooks.controller';
import { PortalSessions, SecretReveal } from './portal-support';

/**
 * Developer Portal pages (`/developer`): server-rendered forms over the same
 * services as the JSON API (DevelopersService, ApplicationsService,
 * ConnectionAdminService, WebhookDeliveriesService).
 */
@Module({
  imports: [DeveloperModule, OAuthModule, WebhooksModule],
  controllers: [PortalAccountController, PortalAppsController, PortalUsersController, PortalWebhooksController, PortalAssetsController],
  providers: [CsrfService, PortalSessions, SecretReveal],
})
export class PortalModule {}
