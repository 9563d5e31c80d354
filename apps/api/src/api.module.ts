import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule, WritabilityRepository } from '@app/database';
import { bullRoot, MetricsModule, RedisModule, SessionModule } from '@app/common';
import { WebhooksModule } from '@app/webhooks';
import { ErrorFilter } from './shared/error.filter';
import { HealthController } from './health/health.controller';
import { AssetsController } from './shared/assets.controller';
import { DeveloperHttpModule } from './developer/developer-http.module';
import { AccountHttpModule } from './account/account-http.module';
import { OAuthHttpModule } from './oauth/oauth-http.module';
import { MetricsController } from './metrics.controller';
import { DocsController } from './docs/docs.controller';
import { OpenApiDocument } from './docs/openapi-document';

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        SessionModule,
        bullRoot('producer'),
        WebhooksModule,
        TerminusModule.forRoot({ logger: false }),
        OAuthHttpModule,
        AccountHttpModule,
        DeveloperHttpModule,
        MetricsModule.forRole({ role: 'api' }),
      ],
      controllers: [HealthController, AssetsController, MetricsController, DocsController],
      providers: [{ provide: APP_FILTER, useClass: ErrorFilter }, OpenApiDocument, WritabilityRepository],
    };
  }
}
