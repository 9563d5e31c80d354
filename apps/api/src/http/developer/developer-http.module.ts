import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { OAuthModule } from '@app/oauth';
import { DeveloperAccountController } from './developer-account.controller';
import { DeveloperApplicationsController } from './developer-applications.controller';
import { DeveloperUsersController } from './developer-users.controller';
import { PortalWriteGuard } from './portal-write.guard';

/** Developer Portal JSON API: accounts, applications and their users. */
@Module({
  imports: [DeveloperModule, OAuthModule],
  controllers: [DeveloperAccountController, DeveloperApplicationsController, DeveloperUsersController],
  providers: [PortalWriteGuard],
})
export class DeveloperHttpModule {}
