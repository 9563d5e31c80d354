import { Module } from '@nestjs/common';
import { DeveloperModule } from '@app/developer';
import { DeveloperAccountController } from './developer-account.controller';
import { DeveloperApplicationsController } from './developer-applications.controller';
import { PortalWriteGuard } from './portal-write.guard';

/** Developer Portal JSON API: accounts and applications. */
@Module({
  imports: [DeveloperModule],
  controllers: [DeveloperAccountController, DeveloperApplicationsController],
  providers: [PortalWriteGuard],
})
export class DeveloperHttpModule {}
