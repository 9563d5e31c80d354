import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { RELAY_QUEUE } from './relay.constants';
import { RelayRouting } from './routing.service';
import { RelayIntake } from './intake.service';

/** What apps/relay needs: routing decisions and the intake (queue producer). The worker adds RelayDelivery. */
@Module({
  imports: [BullModule.registerQueue({ name: RELAY_QUEUE })],
  providers: [RelayRouting, RelayIntake],
  exports: [BullModule, RelayRouting, RelayIntake],
})
export class RelayModule {}
