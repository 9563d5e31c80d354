import { Module } from '@nestjs/common';
import { AccessChangeSignals } from './access-change-signals';

/** One AccessChangeSignals per process (it subscribes to the DataSource's transactions). Needs RedisModule, DatabaseModule and ConfigModule. */
@Module({
  providers: [AccessChangeSignals],
  exports: [AccessChangeSignals],
})
export class AccessSignalsModule {}
