import { DynamicModule, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { bullRoot, QUEUES, RedisModule } from '@app/common';
import { HousekeepingProcessor } from './jobs/housekeeping.processor';

/** The worker: BullMQ processors only, no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, RedisModule, bullRoot(), BullModule.registerQueue({ name: QUEUES.housekeeping })],
      providers: [HousekeepingProcessor],
    };
  }
}
