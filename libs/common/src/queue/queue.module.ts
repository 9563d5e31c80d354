import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import Redis from 'ioredis';
import { AppConfig, APP_CONFIG } from '@app/config';
import { createRedisClient, redisNodeOptions } from '../redis/redis-client';

/** Queue names: the API enqueues, only apps/worker registers processors. */
export const QUEUES = {
  housekeeping: 'housekeeping',
} as const;

type QueueRole = 'producer' | 'worker';

const QUEUE_CLUSTER = Symbol('QUEUE_CLUSTER');

/**
 * A queue's key prefix: a hash tag of its own, so that on a Cluster all keys
 * of one queue share a slot (BullMQ's scripts need that) while different
 * queues land on different shards.
 */
export function queuePrefix(config: AppConfig, queue: string): string {
  return `{${config.redisPrefix}:bull:${queue}}`;
}

/** BullMQ cannot take Cluster options, only a client: one per process, closed at shutdown (null elsewhere: BullMQ owns its clients). */
@Injectable()
class QueueClusterCloser implements OnApplicationShutdown {
  constructor(@Inject(QUEUE_CLUSTER) private readonly cluster: Redis | null) {}
  async onApplicationShutdown() {
    await this.cluster?.quit().catch(() => this.cluster?.disconnect());
  }
}

@Module({})
class QueueConnectionModule {
  static forRole(role: QueueRole): DynamicModule {
    return {
      module: QueueConnectionModule,
      providers: [
        {
          provide: QUEUE_CLUSTER,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => (config.queueRedis.kind === 'cluster' ? createRedisClient(config.queueRedis, role) : null),
        },
        QueueClusterCloser,
      ],
      exports: [QUEUE_CLUSTER],
    };
  }
}

/**
 * BullMQ's Redis connection (QUEUE_REDIS_URL, default REDIS_URL). The API
 * only produces: it must fail fast while Redis is down (the outbox sweeper
 * catches up later) rather than queue commands in memory. The worker blocks
 * on Redis and retries forever, as BullMQ workers require.
 */
export function bullRoot(role: QueueRole) {
  return BullModule.forRootAsync({
    imports: [QueueConnectionModule.forRole(role)],
    inject: [APP_CONFIG, QUEUE_CLUSTER],
    useFactory: (config: AppConfig, cluster: Redis | null) => ({
      connection: config.queueRedis.kind === 'cluster' ? cluster! : redisNodeOptions(config.queueRedis, role),
      prefix: `{${config.redisPrefix}:bull}`,
    }),
  });
}

/** Registers a queue with its own hash-tagged prefix (see queuePrefix); its processor inherits it. */
export function registerQueue(name: string) {
  return BullModule.registerQueueAsync({
    name,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => ({ prefix: queuePrefix(config, name) }),
  });
}
