import { Controller, Get, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import Redis from 'ioredis';
import { AppError, REDIS } from '@app/common';
import { WORKER_HEARTBEATS_KEY as HEARTBEATS_KEY } from '@app/webhooks';

const FRESH_MS = 15_000;
const MAX_OUTBOX_LAG_SECONDS = 60;

/** What each worker writes to its heartbeat field (times in ms since epoch). */
interface WorkerHeartbeat {
  pid: number;
  at: number;
  relayLastPassAt: number;
  jobsDone: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mysql: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly db: DataSource,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  live() {
    return { status: 'ok' };
  }

  /** Readiness: MySQL and Redis answer; 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.mysql.pingCheck('mysql', { timeout: 1500 }),
      async () => {
        const redis = this.indicators.check('redis');
        try {
          await withTimeout(this.redis.ping(), 1500);
          return redis.up();
        } catch (error) {
          return redis.down({ message: (error as Error).message });
        }
      },
    ]);
  }

  /**
   * Worker readiness from real progress: some worker's outbox relay completed
   * a pass in the last 15 s, and no committed event has waited over 60 s to
   * be queued. 503 otherwise.
   */
  @Get('worker')
  async worker() {
    const now = Date.now();
    const entries = Object.values(await withTimeout(this.redis.hgetall(HEARTBEATS_KEY), 1500)).map((raw) => JSON.parse(raw) as WorkerHeartbeat);
    const workers = entries
      .filter((w) => now - w.at < 3_600_000)
      .map((w) => ({ pid: w.pid, lastSeenSecondsAgo: Math.round((now - w.at) / 1000), relayLastPassSecondsAgo: w.relayLastPassAt ? Math.round((now - w.relayLastPassAt) / 1000) : null, jobsDone: w.jobsDone }));
    const [backlog] = await this.db.query<{ unqueued: number | string; oldest: number | string | null }[]>(
      `SELECT COUNT(*) AS unqueued, TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(3)) AS oldest FROM webhook_events WHERE status = 'pending' AND enqueued_at IS NULL`,
    );
    const outbox = { unqueued: Number(backlog.unqueued), oldestUnqueuedSeconds: backlog.oldest === null ? null : Number(backlog.oldest) };
    const alive = entries.some((w) => now - w.at < FRESH_MS && w.relayLastPassAt && now - w.relayLastPassAt < FRESH_MS);
    const lagging = outbox.oldestUnqueuedSeconds !== null && outbox.oldestUnqueuedSeconds > MAX_OUTBOX_LAG_SECONDS;
    if (!alive || lagging) {
      throw new AppError('temporarily_unavailable', !alive ? 'No worker has made progress in the last 15 seconds.' : 'The webhook outbox is falling behind.');
    }
    return { status: 'ok', workers, outbox };
  }
}
