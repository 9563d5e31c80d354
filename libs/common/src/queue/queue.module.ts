import { BullModule } from '@nestjs/bullmq';
import { AppConfig, APP_CONFIG } from '@app/config';

/** Queue names: the API enqueues, only apps/worker registers processors. */
export const QUEUES = {
  housekeeping: 'housekeeping',
} as const;

/**
 * BullMQ's Redis connection, with its own key prefix. The API only produces:
 * it must fail fast while Redis is down (the outbox sweeper catches up later)
 * rather than queue commands in memory. The worker blocks on Redis and
 * retries forever, as BullMQ workers require.
 */
export function bullRoot(role: 'producer' | 'worker') {
  return BullModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => ({
      connection: role === 'producer' ? { url: config.redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1 } : { url: config.redisUrl, maxRetriesPerRequest: null },
      prefix: `${config.redisPrefix}:bull`,
    }),
  });
}
