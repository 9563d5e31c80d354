import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SessionCounts } from '@app/connections';

/** Pause between flush rounds (after one ends): session counts reach MySQL within about a second. */
const EVERY_MS = 500;

/**
 * Applies the session counts pending in Redis to MySQL (SessionCounts): every
 * round flushes each of the 16 partitions, leftover batches of a crashed round
 * first (the first round runs at start). Every worker process runs it: two at
 * once are safe, a batch's id is recorded with its counts and refused the
 * second time. A failed round (Redis or MySQL away) is retried by the next.
 */
@Injectable()
export class SessionCountFlusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('session-counts');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly counts: SessionCounts) {}

  onApplicationBootstrap() {
    this.schedule(0);
  }

  /** Before Redis and MySQL close (their clients end in onApplicationShutdown). */
  async beforeApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    // What the API counted up to now reaches MySQL before the process ends (else another worker's round applies it).
    await this.round();
  }

  private schedule(delay: number) {
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(EVERY_MS);
      });
    }, delay);
  }

  private async round(): Promise<void> {
    try {
      await this.counts.flushAll();
    } catch (error) {
      this.logger.warn(`flush failed, retried next round: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
