import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { bullRoot, MetricsModule, RedisModule, TracingFlush } from '@app/common';
import { RelayModule } from '@app/relay';
import { RelaySmtpServer } from './smtp.server';

/** The relay process: inbound SMTP only; sending is the worker's job. */
@Module({})
export class RelayAppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RelayAppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        bullRoot('producer'),
        RelayModule,
        MetricsModule.forRole({ role: 'relay', port: (c) => c.metrics.relayPort, portVariable: 'RELAY_METRICS_PORT' }),
      ],
      providers: [RelaySmtpServer, TracingFlush],
    };
  }
}
