import { WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';

/**
 * A BullMQ processor that starts with the configured lock and concurrency
 * and, on SIGTERM/SIGINT, closes its worker before any connection closes:
 * `worker.close()` waits for the jobs in flight, which still need MySQL to
 * record their outcome (Nest closes TypeORM in onApplicationShutdown).
 */
export abstract class ManagedWorkerHost extends WorkerHost implements BeforeApplicationShutdown {
  /** For processors declared with `autorun: false`. */
  protected startWorker(config: AppConfig, concurrency: number) {
    Object.assign(this.worker.opts, { lockDuration: config.workerLockMs, stalledInterval: config.workerLockMs });
    this.worker.concurrency = concurrency;
    void this.worker.run();
  }

  async beforeApplicationShutdown() {
    await this.worker.close();
  }
}
