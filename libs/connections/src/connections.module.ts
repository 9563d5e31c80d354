import { Module } from '@nestjs/common';
import { AccessSignalsModule } from '@app/common';
import { IdentityModule } from '@app/identity';
import { WebhooksModule } from '@app/webhooks';
import { AccountCenterService } from './account-center.service';
import { ApplicationUsersService } from './application-users.service';
import { ConnectionStateService } from './connection-state.service';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { SessionCounts } from './session-counts';
import { SessionCountsRepository } from './session-counts.repository';

/**
 * Connections between users and applications: consent, the shared or relay
 * address, forwarding, mute, blocking, the per-application counters, the
 * developer's user list and the end user's account center, the session counts.
 */
@Module({
  imports: [AccessSignalsModule, IdentityModule, WebhooksModule],
  providers: [ConnectionsRepository, ConnectionsService, ConnectionStateService, ApplicationUsersService, AccountCenterService, SessionCountsRepository, SessionCounts],
  exports: [ConnectionsRepository, ConnectionsService, ConnectionStateService, ApplicationUsersService, AccountCenterService, SessionCountsRepository, SessionCounts],
})
export class ConnectionsModule {}
