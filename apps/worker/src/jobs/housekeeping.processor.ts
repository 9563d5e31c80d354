import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { QUEUES } from '@app/common';

const BATCH = 1000;

/**
 * Keeps tables bounded: removes expired access and refresh tokens in small batches so a
 * run never holds long locks. Scheduled every 10 minutes (one scheduler for
 * all worker processes, by BullMQ's job scheduler id).
 */
@Processor(QUEUES.housekeeping)
export class HousekeepingProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('housekeeping');

  constructor(
    private readonly db: DataSource,
    @InjectQueue(QUEUES.housekeeping) private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap() {
    await this.queue.upsertJobScheduler('purge-expired', { every: 10 * 60 * 1000 }, { name: 'purge-expired' });
  }

  async process(): Promise<{ removed: number }> {
    let removed = 0;
    for (;;) {
      const result = await this.db.query(`DELETE FROM access_tokens WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ${BATCH}`);
      removed += result.affectedRows ?? 0;
      if ((result.affectedRows ?? 0) < BATCH) break;
    }
    // Refresh tokens go with their family's absolute expiry (used ones are kept until then: replay detection).
    for (;;) {
      const result = await this.db.query(`DELETE FROM refresh_tokens WHERE family_expires_at < UTC_TIMESTAMP(3) LIMIT ${BATCH}`);
      removed += result.affectedRows ?? 0;
      if ((result.affectedRows ?? 0) < BATCH) break;
    }
    this.logger.log(`removed ${removed} expired access and refresh tokens`);
    return { removed };
  }
}
