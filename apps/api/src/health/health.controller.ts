import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { AppError, isCluster, REDIS } from '@app/common';
import { WritabilityRepository } from '@app/database';
import { WebhookEventsRepository, WORKER_HEARTBEATS_KEY as HEARTBEATS_KEY } from '@app/webhooks';
import { ApiEndpoint } from '../shared/openapi';
import { HealthStatus, Readiness } from './health.schemas';

const FRESH_MS = 15_000;
const MAX_OUTBOX_LAG_SECONDS = 60;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mysql: WritabilityRepository,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly events: WebhookEventsRepository,
  ) {}

  /** Liveness: the process answers. */
  @ApiEndpoint({ summary: 'Liveness: the process answers', response: HealthStatus })
  @Get()
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: this process can write. MySQL is not read-only; Redis answers
   * as a master (one node, Sentinel), or the Cluster is in state ok (every
   * slot served by a master). A PING alone would pass on a demoted primary.
   */
  @ApiEndpoint({ summary: 'Readiness: MySQL and Redis take writes (else 503)', response: Readiness, errors: ['temporarily_unavailable'] })
  @Get('ready')
  // Documented by @ApiEndpoint; terminus's own swagger answers would contradict it (and the error shape).
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  ready() {
    return this.health.check([() => this.indicate('mysql', () => this.mysqlProblem()), () => this.indicate('redis', () => this.redisProblem())]);
  }

  private async indicate(name: string, problem: () => Promise<string | null>) {
    const indicator = this.indicators.check(name);
    try {
      const found = await withTimeout(problem(), 1500);
      return found === null ? indicator.up() : indicator.down({ message: found });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async mysqlProblem(): Promise<string | null> {
    return (await this.mysql.writable()) ? null : 'MySQL is read-only';
  }

  private async redisProblem(): Promise<string | null> {
    if (isCluster(this.redis)) {
      const info = String(await this.redis.cluster('INFO'));
      return /^cluster_state:ok\b/m.test(info) ? null : 'the Redis Cluster is not in state ok';
    }
    const [role] = (await this.redis.role()) as [string];
    return role === 'master' ? null : `Redis answers as a ${role}`;
  }

  /**
   * Worker readiness from real progress: some worker's outbox sweeper completed
   * a pass in the last 15 s, and no committed event has waited over 60 s to
   * be queued. 503 otherwise.
   */
  @ApiEndpoint({ summary: 'Worker readiness: a worker made progress in the last 15 s (else 503)', response: HealthStatus, errors: ['temporarily_unavailable'] })
  @Get('worker')
  async worker() {
    const now = Date.now();
    const entries = Object.values(await withTimeout(this.redis.hgetall(HEARTBEATS_KEY), 1500)).map((raw) => JSON.parse(raw) as { at: number; relayLastPassAt?: number | null });
    const outbox = await this.events.backlog();
    const alive = entries.some((w) => now - w.at < FRESH_MS && w.relayLastPassAt && now - w.relayLastPassAt < FRESH_MS);
    const lagging = outbox.oldestUnqueuedSeconds !== null && outbox.oldestUnqueuedSeconds > MAX_OUTBOX_LAG_SECONDS;
    if (!alive || lagging) {
      throw new AppError('temporarily_unavailable', !alive ? 'No worker has made progress in the last 15 seconds.' : 'The webhook outbox is falling behind.');
    }
    // Public: up or down only (no process ids or job counts).
    return { status: 'ok' };
  }
}
