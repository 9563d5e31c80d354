import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { createRedisClient } from './redis-client';

export const REDIS = Symbol('REDIS');

/** One client per process (one node, Sentinel or Cluster: REDIS_URL); every key gets the configured prefix. */
export function createRedis(config: AppConfig): Redis {
  return createRedisClient(config.redis, 'app', `${config.redisPrefix}:`);
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
