import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';

export const REDIS = Symbol('REDIS');

/** One ioredis client per process; every key gets the configured prefix. */
export function createRedis(config: AppConfig): Redis {
  return new Redis(config.redisUrl, {
    keyPrefix: `${config.redisPrefix}:`,
    // Fail fast while Redis is down instead of queueing commands forever.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [{ provide: REDIS, inject: [APP_CONFIG], useFactory: createRedis }, RedisCloser],
  exports: [REDIS],
})
export class RedisModule {}
