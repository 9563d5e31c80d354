// Environment of a bench: its own database and Redis prefix, fresh random
// secrets and production settings for the API and worker it starts.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { dropDatabase, migrate } from '@app/database';
import { root } from './processes';

// scripts/lib.js is plain CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scripts = require(`${root}/scripts/lib`) as {
  ensureInstalled(): void;
  build(): void;
  checkServices(env?: NodeJS.ProcessEnv): Promise<void>;
  freePort(): Promise<number>;
  PROCESS_ENV: Record<string, string>;
};

/** A TCP port free on 127.0.0.1 right now. */
export const freePort = (): Promise<number> => scripts.freePort();

export interface BenchArgs {
  keep: boolean;
  /** Whether a bare `--name` flag was given. */
  flag(name: string): boolean;
  /** Numeric `--name=value` options. */
  num(name: string, fallback: number): number;
}

export function parseArgs(argv = process.argv.slice(2)): BenchArgs {
  const known = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    known.set(m[1], m[2] ?? 'true');
  }
  return {
    keep: known.has('keep'),
    flag: (name) => known.get(name) === 'true',
    num(name, fallback) {
      const raw = known.get(name);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
      return value;
    },
  };
}

/** Installs what is missing, compiles apps/ and libs/ to dist/, checks MySQL and Redis. */
export async function buildAndCheck(): Promise<void> {
  scripts.ensureInstalled();
  console.log('> building (SWC: apps + libs -> dist)');
  scripts.build();
  await scripts.checkServices();
}

export function databaseUrl(database: string): string {
  const url = new URL(process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/loginsign');
  url.pathname = `/${database}`;
  return url.toString();
}

export const redisUrl = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Drops and re-creates the database, runs the migrations. */
export async function freshDatabase(url: string): Promise<void> {
  await dropDatabase(url);
  await migrate({ databaseUrl: url });
}

export { dropDatabase };

const secret = () => randomBytes(32).toString('base64');

export interface BenchEnvOptions {
  databaseUrl: string;
  redisPrefix: string;
  port: number;
  /** Extra variables (they win over the defaults below). */
  extra?: Record<string, string>;
}

/**
 * Production settings: NODE_ENV=production with explicit random secrets (so
 * nothing is read from or written to .data/), warn-level logs, loopback
 * webhook targets allowed (the bench's receiver), and an IP login throttle
 * high enough that one load generator IP is never throttled.
 */
export function benchEnv(o: BenchEnvOptions): Record<string, string> {
  return {
    ...scripts.PROCESS_ENV,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: o.redisPrefix,
    JWT_SECRET: secret(),
    SESSION_SECRET: secret(),
    GLOBAL_ID_KEY: secret(),
    DATA_ENCRYPTION_KEY: secret(),
    // BENCH_LOG_LEVEL=info measures the default production level (one request line per request).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    LOGIN_MAX_FAILURES_PER_IP: '1000000',
    // Every simulated client signs up and signs in from this machine: exempt it from the per-IP counters.
    RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1',
    ...o.extra,
  };
}

/** A Redis prefix no other run uses: `bench-<name>-<random>`. */
export function uniqueRedisPrefix(name: string): string {
  return `bench-${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key under `prefix:` (sessions, codes, BullMQ queues of the run). */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  if (!/^bench-[a-z-]+-[0-9a-f]{8}$/.test(prefix)) throw new Error(`refusing to delete keys of prefix "${prefix}"`);
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
