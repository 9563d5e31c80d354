import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { bullRoot, MetricsModule, RedisModule, SessionModule } from '@app/common';
import { ErrorFilter } from './http/common/error.filter';
import { HealthController } from './http/health/health.controller';
import { AssetsController } from './http/assets.controller';
import { DeveloperHttpModule } from './http/developer/developer-http.module';
import { AccountHttpModule } from './http/account/account.module';
import { OAuthHttpModule } from './http/oauth/oauth-http.module';
import { WebhooksHttpModule } from './http/webhooks/webhooks-http.module';
import { OidcHttpModule } from './http/oidc/oidc-http.module';
import { PortalModule } from './http/portal/portal.module';
import { MetricsController } from './metrics.controller';

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, RedisModule, SessionModule, bullRoot('producer'), TerminusModule.forRoot({ logger: false }), DeveloperHttpModule, AccountHttpModule, OAuthHttpModule, WebhooksHttpModule, OidcHttpModule, PortalModule, MetricsModule.forRole({ role: 'api' })],
      controllers: [HealthController, AssetsController, MetricsController],
      providers: [{ provide: APP_FILTER, useClass: ErrorFilter }],
    };
  }
}
