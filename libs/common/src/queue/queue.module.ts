import { BullModule } from '@nestjs/bullmq';
import { AppConfig, APP_CONFIG } from '@app/config';

/** Queue names: the API enqueues, only apps/worker registers processors. */
export const QUEUES = {
  housekeeping: 'housekeeping',
} as const;

/** BullMQ connection shared by API and worker (own connection, own key prefix). */
export function bullRoot() {
  return BullModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => ({
      connection: { url: config.redisUrl, maxRetriesPerRequest: null },
      prefix: `${config.redisPrefix}:bull`,
    }),
  });
}
