import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { enableMetrics, MetricsRole, PoolSample, poolSamplers, QueueSample, queueSamplers } from './registry';
import { MetricsServer, startMetricsServer } from './server';

export interface MetricsOptions {
  role: MetricsRole;
  /** BullMQ queues (registered in this app) whose depths and oldest waiting job are reported. */
  queues?: string[];
  /** Serve /metrics on this port (worker, relay); the API serves it on its own HTTP port. */
  port?: (config: AppConfig) => number;
  /** The variable that sets it, for the message when the port is taken. */
  portVariable?: string;
}

const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');
const QUEUE_STATES = ['waiting', 'delayed', 'active', 'prioritized', 'failed'] as const;

interface MysqlPool {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}

/** Registers the role's families, samples the MySQL pool and the queues, and runs the /metrics server if asked. */
@Injectable()
export class ProcessMetrics implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('metrics');
  private server?: MetricsServer;
  private readonly samplePool = (): PoolSample => {
    const pool = (this.dataSource.driver as unknown as { pool?: MysqlPool }).pool;
    const all = pool?._allConnections?.length ?? 0;
    const idle = pool?._freeConnections?.length ?? 0;
    return { inUse: all - idle, idle, max: pool?.config?.connectionLimit ?? 0, waiting: pool?._connectionQueue?.length ?? 0 };
  };
  private readonly sampleQueues = async (): Promise<QueueSample[]> => {
    const queues = (this.options.queues ?? []).map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    return Promise.all(
      queues.map(async (queue) => {
        try {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
          const ageSeconds = oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0;
          return { queue: queue.name, counts, oldestWaitingAgeSeconds: ageSeconds };
        } catch {
          // Redis unreachable: the queue families are left out of this scrape, the rest is served.
          return { queue: queue.name, counts: {}, oldestWaitingAgeSeconds: 0 };
        }
      }),
    );
  };

  constructor(
    @Inject(METRICS_OPTIONS) private readonly options: MetricsOptions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The port /metrics is served on (null in the API, which serves it itself). */
  get port(): number | null {
    return this.server?.port ?? null;
  }

  onModuleInit() {
    enableMetrics(this.options.role);
    poolSamplers.add(this.samplePool);
    if (this.options.queues?.length) queueSamplers.add(this.sampleQueues);
  }

  async onApplicationBootstrap() {
    if (!this.options.port) return;
    const port = this.options.port(this.config);
    try {
      this.server = await startMetricsServer(port, this.config.host, this.config.metrics.token);
    } catch (error: unknown) {
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
      throw new Error(`The metrics port ${port} is already in use: set ${this.options.portVariable ?? 'another port'} to a free one (each process needs its own).`);
    }
    this.logger.debug(`metrics on port ${this.server.port}`);
  }

  async onApplicationShutdown() {
    poolSamplers.delete(this.samplePool);
    queueSamplers.delete(this.sampleQueues);
    await this.server?.close();
  }
}

/** Prometheus metrics of one process (see docs/operations.md). */
@Module({})
export class MetricsModule {
  static forRole(options: MetricsOptions): DynamicModule {
    return {
      module: MetricsModule,
      providers: [{ provide: METRICS_OPTIONS, useValue: options }, ProcessMetrics],
      exports: [ProcessMetrics],
    };
  }
}
