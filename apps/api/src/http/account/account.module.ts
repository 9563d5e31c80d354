import { Module } from '@nestjs/common';
import { IdentityModule } from '@app/identity';
import { CsrfService } from '../common/csrf';
import { AccountApiController } from './account-api.controller';
import { AccountPagesController } from './account-pages.controller';
import { SameSiteGuard } from './same-site.guard';
import { UserSessions } from './user-sessions';

/** End-user account pages and their JSON equivalents. */
@Module({
  imports: [IdentityModule],
  controllers: [AccountApiController, AccountPagesController],
  providers: [CsrfService, UserSessions, SameSiteGuard],
  exports: [UserSessions],
})
export class AccountHttpModule {}
