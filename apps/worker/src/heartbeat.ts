import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { hostname } from 'node:os';
import { REDIS } from '@app/common';
import { OutboxSweeper, WORKER_HEARTBEATS_KEY as HEARTBEATS_KEY } from '@app/webhooks';

const EVERY_MS = 1000;

/**
 * Readiness that reflects progress, not just a Redis ping: every second the
 * worker writes when its outbox sweeper last completed a pass and how many jobs
 * it finished. `GET /health/worker` on the API reads these (a worker killed
 * without shutdown leaves a stale entry, which simply ages out of readiness).
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private jobsDone = 0;
  private readonly field = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly relay: OutboxSweeper,
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
    await this.redis.hdel(HEARTBEATS_KEY, this.field).catch(() => undefined);
  }

  private async beat() {
    const state = { pid: process.pid, at: Date.now(), relayLastPassAt: this.relay.lastPassAt, jobsDone: this.jobsDone };
    await this.redis.hset(HEARTBEATS_KEY, this.field, JSON.stringify(state)).catch(() => undefined);
  }
}
