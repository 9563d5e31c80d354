import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { RedisTarget } from '@app/config';

/**
 * How a client behaves while Redis is away:
 * - `app`: request handling; a command waits for one reconnect at most, then fails (503);
 * - `producer`: BullMQ in the API; fails at once (the outbox sweeper catches up later);
 * - `worker`: BullMQ workers block on Redis and retry forever, as BullMQ requires.
 */
export type RedisRole = 'app' | 'producer' | 'worker';

const ROLE_OPTIONS: Record<RedisRole, Pick<RedisOptions, 'maxRetriesPerRequest' | 'enableOfflineQueue' | 'enableAutoPipelining'>> = {
  // Commands issued in the same event-loop turn (concurrent requests) leave in one write: under
  // load the per-command socket write was the API's largest single cost (npm run bench:peer profile).
  app: { maxRetriesPerRequest: 1, enableOfflineQueue: true, enableAutoPipelining: true },
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false },
  worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
};

/** A write reached a node that was demoted to replica (failover). */
const isReadonly = (error: Error) => error.message.startsWith('READONLY');

/** Options of a one-node or Sentinel client (BullMQ takes these as they are, `url` included). */
export function redisNodeOptions(target: Exclude<RedisTarget, { kind: 'cluster' }>, role: RedisRole): RedisOptions {
  const common: RedisOptions = { ...ROLE_OPTIONS[role], retryStrategy: (times) => Math.min(50 * times, 1000) };
  if (target.kind === 'single') {
    // Same address after a reconnect: resending would meet the replica again, so the command fails (503) and the next one retries.
    return { ...common, url: target.url, reconnectOnError: (error) => (isReadonly(error) ? 1 : false) } as RedisOptions;
  }
  return {
    ...common,
    sentinels: target.sentinels,
    name: target.masterName,
    sentinelPassword: target.sentinelPassword,
    username: target.username,
    password: target.password,
    db: target.db,
    tls: target.tls ? {} : undefined,
    // No failoverDetector: its +switch-master disconnect can land while a reconnect is resolving the
    // master (primary killed), which ends the client for good ("Connection is closed." until a
    // restart; seen in test/e2e/redis-sentinel.e2e-spec.ts). A killed primary drops the connection,
    // a demoted one answers READONLY: both reconnect through the sentinels.
    // A demoted primary: reconnect (Sentinel names the new one) and resend the command there.
    reconnectOnError: (error) => (isReadonly(error) ? 2 : false),
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
  };
}

/** Options of a Cluster client: slots follow failovers (MOVED/ASK, refresh when a node is lost). */
function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, role: RedisRole, keyPrefix?: string): ClusterOptions {
  const { enableOfflineQueue, maxRetriesPerRequest, enableAutoPipelining } = ROLE_OPTIONS[role];
  return {
    keyPrefix,
    enableOfflineQueue,
    enableAutoPipelining,
    redisOptions: { username: target.username, password: target.password, tls: target.tls ? {} : undefined, maxRetriesPerRequest },
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    // No periodic slot refresh: a command meeting the dead master refreshes the slots (a timer could also outlive quit()).
    slotsRefreshTimeout: 2000,
  };
}

/**
 * The one way to connect to Redis (API, worker, relay, BullMQ). A Cluster
 * client answers the same commands as a one-node client (multi-key commands
 * must stay within one hash slot; see docs/scaling.md, "Redis topologies"),
 * so callers keep the `Redis` type.
 */
export function createRedisClient(target: RedisTarget, role: RedisRole, keyPrefix?: string): Redis {
  if (target.kind === 'cluster') return new Cluster(target.nodes, clusterOptions(target, role, keyPrefix)) as unknown as Redis;
  const { url, ...options } = redisNodeOptions(target, role) as RedisOptions & { url?: string };
  return url ? new Redis(url, { ...options, keyPrefix }) : new Redis({ ...options, keyPrefix });
}

/** True when `client` talks to a Redis Cluster. */
export function isCluster(client: Redis): boolean {
  return (client as unknown as { isCluster?: boolean }).isCluster === true;
}
