import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { hostname } from 'node:os';
import { REDIS } from '@app/common';
import { OutboxRelay } from '@app/webhooks';

export const HEARTBEAT_KEY_PREFIX = 'worker-heartbeat:';
const EVERY_MS = 5000;

/**
 * Readiness that reflects progress, not just a Redis ping: every 5 s the
 * worker writes when its outbox relay last completed a pass and how many jobs
 * it finished. `GET /health/worker` on the API reads these.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private jobsDone = 0;
  private readonly key = `${HEARTBEAT_KEY_PREFIX}${hostname()}:${process.pid}`;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly relay: OutboxRelay,
  ) {}

  jobDone() {
    this.jobsDone++;
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.beat(), EVERY_MS);
    void this.beat();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.redis.del(this.key).catch(() => undefined);
  }

  private async beat() {
    const state = { pid: process.pid, at: Date.now(), relayLastPassAt: this.relay.lastPassAt, jobsDone: this.jobsDone };
    await this.redis.set(this.key, JSON.stringify(state), 'PX', EVERY_MS * 3).catch(() => undefined);
  }
}
