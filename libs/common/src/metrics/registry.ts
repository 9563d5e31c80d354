import { collectDefaultMetrics, Counter, Gauge, Histogram, Metric, Registry } from 'prom-client';
import { AppError } from '../errors';

export type MetricsRole = 'api' | 'worker' | 'relay';

/**
 * The process's Prometheus registry. Every process serves only its own
 * numbers; which families it has depends on its role (`enableMetrics`).
 * Metric names, labels and label values are listed in docs/operations.md.
 */
export const registry = new Registry();

const none = { registers: [] as Registry[] };

/** What a pool or queue reports when scraped (a process may hold several apps, e.g. in tests: they add up). */
export interface PoolSample {
  inUse: number;
  idle: number;
  max: number;
  waiting: number;
}
export interface QueueSample {
  queue: string;
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}
export const poolSamplers = new Set<() => PoolSample>();
export const queueSamplers = new Set<() => Promise<QueueSample[]>>();

/** API: request latency by route pattern (never a raw path: no ids, tokens or addresses). */
export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ...none,
});

/** API: POST /oauth/token answers; result is `success` or the error code answered. */
export const tokenRequests = new Counter({
  name: 'loginsign_token_requests_total',
  help: 'Token endpoint requests by grant_type and result (success or the error code).',
  labelNames: ['grant_type', 'result'] as const,
  ...none,
});

/** API: user sign-ins; method is `password` or `passkey`. */
export const logins = new Counter({
  name: 'loginsign_logins_total',
  help: 'User sign-in attempts by method and result (success or the error code).',
  labelNames: ['method', 'result'] as const,
  ...none,
});

/** Worker: webhook delivery attempts. */
export const webhookDeliveries = new Counter({
  name: 'loginsign_webhook_deliveries_total',
  help: 'Webhook delivery attempts by result: success, retry (will be tried again), failed (for good), skipped (no longer pending).',
  labelNames: ['result'] as const,
  ...none,
});

/** Worker: webhook jobs not yet done (waiting, delayed for a retry, prioritized or running). */
export const webhookBacklog = new Gauge({
  name: 'loginsign_webhook_backlog',
  help: 'Webhook deliveries not yet done: jobs waiting, delayed for a retry or running.',
  ...none,
  async collect() {
    const samples = await sampleQueues();
    this.set(0);
    for (const sample of samples) {
      if (sample.queue !== 'webhooks') continue;
      const { waiting = 0, delayed = 0, active = 0, prioritized = 0 } = sample.counts;
      this.inc(waiting + delayed + active + prioritized);
    }
  },
});

/** Worker: BullMQ job counts per queue and state. */
export const queueJobs = new Gauge({
  name: 'loginsign_queue_jobs',
  help: 'BullMQ jobs per queue and state (waiting, delayed, active, prioritized, failed).',
  labelNames: ['queue', 'state'] as const,
  ...none,
  async collect() {
    const samples = await sampleQueues();
    this.reset();
    for (const sample of samples) {
      for (const [state, count] of Object.entries(sample.counts)) this.inc({ queue: sample.queue, state }, count);
    }
  },
});

/** Worker: how long the oldest waiting job has waited (0 when none waits). */
export const queueOldestWaitingAge = new Gauge({
  name: 'loginsign_queue_oldest_waiting_job_age_seconds',
  help: 'Age of the oldest job waiting to be picked up, per queue (0 when none waits).',
  labelNames: ['queue'] as const,
  ...none,
  async collect() {
    const oldest = new Map<string, number>();
    for (const sample of await sampleQueues()) {
      oldest.set(sample.queue, Math.max(oldest.get(sample.queue) ?? 0, sample.oldestWaitingAgeSeconds));
    }
    this.reset();
    for (const [queue, age] of oldest) this.set({ queue }, age);
  },
});

/** Relay: what happened to each recipient of an SMTP transaction. */
export const relayMessages = new Counter({
  name: 'loginsign_relay_messages_total',
  help: 'Relay decisions per recipient: forwarded (queued for sending), refused (SMTP error answered), dropped (accepted, not passed on).',
  labelNames: ['decision'] as const,
  ...none,
});

/** Every process: its MySQL connection pool. */
export const mysqlPoolConnections = new Gauge({
  name: 'loginsign_mysql_pool_connections',
  help: 'Connections of the MySQL pool by state: in_use, idle, and max (the pool size).',
  labelNames: ['state'] as const,
  ...none,
  collect() {
    const total = { in_use: 0, idle: 0, max: 0 };
    for (const sample of samplePools()) {
      total.in_use += sample.inUse;
      total.idle += sample.idle;
      total.max += sample.max;
    }
    for (const [state, value] of Object.entries(total)) this.set({ state }, value);
  },
});

/** Every process: requests waiting for a free MySQL connection. */
export const mysqlPoolQueue = new Gauge({
  name: 'loginsign_mysql_pool_waiting_requests',
  help: 'Queries waiting for a free connection of the MySQL pool.',
  ...none,
  collect() {
    this.set(samplePools().reduce((sum, sample) => sum + sample.waiting, 0));
  },
});

function samplePools(): PoolSample[] {
  return [...poolSamplers].map((sample) => sample());
}

/**
 * One read of the queues per scrape, shared by the gauges that need it: a
 * scrape calls every collect() at once, so the first one starts the read.
 */
let queueRead: Promise<QueueSample[]> | null = null;
function sampleQueues(): Promise<QueueSample[]> {
  if (!queueRead) {
    queueRead = Promise.all([...queueSamplers].map((sample) => sample())).then((all) => all.flat());
    const done = () => {
      queueRead = null;
    };
    void queueRead.then(done, done);
  }
  return queueRead;
}

const FAMILIES: Record<MetricsRole, Metric[]> = {
  api: [httpRequestDuration, tokenRequests, logins, mysqlPoolConnections, mysqlPoolQueue],
  worker: [webhookDeliveries, webhookBacklog, queueJobs, queueOldestWaitingAge, mysqlPoolConnections, mysqlPoolQueue],
  relay: [relayMessages, mysqlPoolConnections, mysqlPoolQueue],
};

let defaultsOn = false;
const registered = new Set<Metric>();

/** Registers Node's process metrics and the families of this role (idempotent). */
export function enableMetrics(role: MetricsRole): void {
  if (!defaultsOn) {
    collectDefaultMetrics({ register: registry });
    defaultsOn = true;
  }
  for (const metric of FAMILIES[role]) {
    if (registered.has(metric)) continue;
    registry.registerMetric(metric);
    registered.add(metric);
  }
}

/** The `result` label of an outcome: `success`, or the error's code (`server_error` when it has none). */
export function resultOf(error?: unknown): string {
  if (error === undefined) return 'success';
  return error instanceof AppError ? error.code : 'server_error';
}
