import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { registerQueue } from '@app/common';
import { RELAY_QUEUE } from './relay.constants';
import { RelayRouting } from './relay-routing';
import { RelayIntake } from './relay-intake';
import { RelayMessagesRepository } from './relay-messages.repository';
import { SenderAuth } from './sender-auth';
import { RelayLogService } from './relay-log';

/** What apps/relay needs: routing decisions and the intake (queue producer). The worker adds RelayDelivery. */
@Module({
  imports: [registerQueue(RELAY_QUEUE)],
  providers: [RelayMessagesRepository, RelayRouting, RelayIntake, SenderAuth, RelayLogService],
  exports: [BullModule, RelayMessagesRepository, RelayRouting, RelayIntake, SenderAuth, RelayLogService],
})
export class RelayModule {}
