import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { parseRedisUrl, RedisTarget, RedisUrlError } from './redis-url';

export type NodeEnv = 'development' | 'production' | 'test';

export interface AppConfig {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string;
  /** Read replicas (DATABASE_REPLICA_URLS), used only for reads that tolerate lag: the developer's user list and totals. */
  databaseReplicaUrls: string[];
  /** Whether `migrate` creates the database when missing (DATABASE_CREATE; managed MySQL often refuses CREATE DATABASE). */
  databaseCreate: boolean;
  redisUrl: string;
  /** REDIS_URL parsed: one node, a Sentinel set or a Cluster. */
  redis: RedisTarget;
  /** QUEUE_REDIS_URL parsed (default: REDIS_URL): where the BullMQ queues live. */
  queueRedis: RedisTarget;
  /** Prefix of every Redis key and BullMQ queue (tests use one per run). */
  redisPrefix: string;
  relayDomain: string;
  /** Outgoing mail (verification links); unset: written to the log and /dev/mailbox (not in production). */
  smtpUrl: string | null;
  logLevel: string;
  /** `json` (one object a line), `pretty` (readable, for a terminal) or `auto`: pretty on a terminal outside production and tests. */
  logFormat: 'json' | 'pretty' | 'auto';
  bodyLimitBytes: number;
  codeTtlSeconds: number;
  accessTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  /** Absolute lifetime of a refresh token family, from its first token. */
  refreshTokenTtlSeconds: number;
  /** A replay of a refresh token this soon after its rotation gets tokens of the same family instead of revoking it (lost responses, concurrent tabs). */
  refreshTokenReuseSeconds: number;
  /** A refresh token family also ends after this long without use. */
  refreshTokenIdleSeconds: number;
  /** The id_token signing key is replaced when a token is signed with one older than this. */
  signingKeyRotationDays: number;
  /** How long a process keeps the active signing key and the JWKS in memory. */
  signingKeyCacheSeconds: number;
  webhookBackoffMs: number;
  /** Attempts per event; by default enough for the backoff to span 24 hours. */
  webhookMaxAttempts: number;
  webhookTimeoutMs: number;
  webhookConcurrency: number;
  /** How often the worker's outbox sweeper looks for events not yet queued. */
  outboxRelayIntervalMs: number;
  /** A pending event queued this long ago whose job is gone (Redis restarted) is queued again. */
  outboxLostAfterSeconds: number;
  /** BullMQ job lock; a killed worker's jobs are retried once it lapses. */
  workerLockMs: number;
  allowPrivateWebhookTargets: boolean;
  globalIdBlockSize: number;
  /** API processes (node:cluster workers sharing the port) started by apps/api/src/main.ts. */
  apiProcesses: number;
  /** Requests served on one keep-alive connection before it is closed (0: no limit), so reconnecting clients spread over API processes. */
  httpMaxRequestsPerSocket: number;
  /** How far V8's old generation may grow past what the last full collection kept, in percent (0: V8's own adaptive factor, up to 300%). */
  heapGrowingPercent: number;
  /** Housekeeping removes webhook attempts, delivered webhook events and relay message logs older than this. */
  webhookLogRetentionDays: number;
  /** Housekeeping's purge policy, in days (README, Configuration). */
  retention: {
    /** A relay reply alias not used for this long goes (a later reply to it bounces). */
    replyAliasDays: number;
    /** Webhook events that failed for good stay visible to the developer this long. */
    failedWebhookDays: number;
  };
  metrics: {
    /** Port of the worker's /metrics server (each worker process needs its own). */
    workerPort: number;
    /** Port of the relay's /metrics server. */
    relayPort: number;
    /** When set, every /metrics request needs `Authorization: Bearer <token>`. */
    token: string | null;
  };
  relay: {
    /** Inbound SMTP port of apps/relay. */
    smtpPort: number;
    /** Largest accepted message (SIZE and DATA). */
    maxBytes: number;
    /** Accepted messages per application per minute, and per sender address per minute. */
    ratePerApplication: number;
    ratePerSender: number;
    /** Resolvers for SPF, DKIM, DMARC and sender domain verification (`ip[:port]`); empty: the system's. */
    dnsServers: string[];
    /** Replies a user may send through reply aliases per hour (all their connections together). */
    repliesPerUserPerHour: number;
    /** Delay before the first forwarding retry (then doubling), attempts, and concurrent sends per worker. */
    backoffMs: number;
    maxAttempts: number;
    concurrency: number;
    /** DKIM signing of outgoing relay mail for RELAY_DOMAIN (null: unsigned). */
    dkim: { selector: string; privateKey: string; dnsRecord: string } | null;
    /** Inbound STARTTLS (PEM); null: a generated self-signed pair outside production (devTlsFile), none in production. */
    tls: { cert: string; key: string } | null;
    devTlsFile: string | null;
  };
  login: { maxFailuresPerAccount: number; maxFailuresPerIp: number; windowSeconds: number };
  /** A session also ends after this long without a request (SESSION_IDLE_SECONDS). */
  sessionIdleSeconds: number;
  /**
   * Whose `X-Forwarded-For` is believed (TRUST_PROXY): `false` (unset) uses
   * the socket address, a number counts trusted hops, a list names the
   * proxies' IPs/CIDRs.
   */
  trustProxy: false | number | string[];
  /** IPs/CIDRs exempt from the per-IP counters of sign-up, login and reset (RATE_LIMIT_ALLOWLIST). */
  rateLimitAllowlist: string[];
  /** Per client IP and hour: user sign-ups, developer sign-ups, password reset requests. */
  perIpHourly: { userSignups: number; developerSignups: number; resetRequests: number };
  /** Requests a developer API key may make per minute (sliding window). */
  apiKeyRatePerMinute: number;
  secrets: {
    /** No longer used (access tokens are RS256 since RFC 9068); JWT_SECRET is still read so existing deployments start unchanged. */
    jwtSecret: KeyObject;
    /** Key of CSRF tokens and other cookie-bound MACs. */
    sessionSecret: Buffer;
    /** Key of the Global ID permutation. */
    globalIdKey: Buffer;
    /** AES-256-GCM key for secrets that must be read back (webhook secrets). */
    dataEncryptionKey: Buffer;
  };
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

/** DNS_SERVERS: a comma list of `ip[:port]` (IPv6 in brackets when a port follows). */
function dnsServers(env: Env): string[] {
  const raw = (env.DNS_SERVERS ?? '').trim();
  if (!raw) return [];
  const list = raw.split(',').map((s) => s.trim());
  for (const entry of list) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/.test(entry)) {
      throw new ConfigError('DNS_SERVERS', `must be a comma list of ip[:port], got "${entry}"`);
    }
  }
  return list;
}

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return value;
}

/** DATABASE_REPLICA_URLS: a comma list of mysql:// URLs naming the same database as DATABASE_URL. */
function replicaUrls(env: Env, primary: string): string[] {
  const raw = str(env, 'DATABASE_REPLICA_URLS', '').trim();
  if (raw === '') return [];
  const database = new URL(primary).pathname;
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError('DATABASE_REPLICA_URLS', `must be a comma list of mysql:// URLs, got "${value}"`);
    }
    if (!['mysql:', 'mariadb:'].includes(parsed.protocol)) throw new ConfigError('DATABASE_REPLICA_URLS', `must use mysql: or mariadb:, got "${parsed.protocol}"`);
    if (parsed.pathname !== database) throw new ConfigError('DATABASE_REPLICA_URLS', `must name the database of DATABASE_URL (${database}), got "${parsed.pathname}"`);
    return value;
  });
}

function redisTarget(env: Env, name: string, fallback: string): RedisTarget {
  try {
    return parseRedisUrl(str(env, name, fallback));
  } catch (error) {
    if (error instanceof RedisUrlError) throw new ConfigError(name, error.message);
    throw error;
  }
}

/** Braces would make the prefix a Cluster hash tag: every key on one shard. */
function redisPrefix(env: Env): string {
  const value = str(env, 'REDIS_PREFIX', 'ls');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) throw new ConfigError('REDIS_PREFIX', `must be 1-64 of A-Z a-z 0-9 _ . : - (no braces), got "${value}"`);
  return value;
}

/** A comma list of IP addresses or CIDR ranges (normalised to CIDR). */
function cidrList(env: Env, name: string): string[] {
  const raw = str(env, name, '');
  if (raw.trim() === '') return [];
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    try {
      if (value.includes('/')) {
        const [address, bits] = ipaddr.parseCIDR(value);
        return `${address.toString()}/${bits}`;
      }
      const address = ipaddr.parse(value);
      return `${address.toString()}/${address.kind() === 'ipv4' ? 32 : 128}`;
    } catch {
      throw new ConfigError(name, `must be a comma list of IP addresses or CIDR ranges, got "${value}"`);
    }
  });
}

/** TRUST_PROXY: unset/empty = trust no proxy; a whole number = hop count; otherwise a list of proxy IPs/CIDRs. */
function trustProxy(env: Env): false | number | string[] {
  const raw = str(env, 'TRUST_PROXY', '').trim();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 1, 100);
  return cidrList(env, 'TRUST_PROXY');
}

/** Loopback hosts: localhost, 127.0.0.0/8, [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(host)) return false;
  const address = ipaddr.process(host);
  return address.range() === 'loopback';
}

function metricsToken(env: Env): string | null {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return null;
  if (!/^[\x21-\x7e]{16,512}$/.test(raw)) throw new ConfigError('METRICS_TOKEN', 'must be 16 to 512 printable characters without spaces');
  return raw;
}

const SECRET_NAMES = ['JWT_SECRET', 'SESSION_SECRET', 'GLOBAL_ID_KEY', 'DATA_ENCRYPTION_KEY'] as const;
type SecretName = (typeof SECRET_NAMES)[number];

/**
 * Secrets come from the environment. Outside production a missing secret is
 * generated once and kept in SECRETS_FILE (default .data/secrets.json, not in
 * git), so sessions and tokens survive restarts without a secret in the repo.
 */
function loadSecrets(env: Env, production: boolean): Record<SecretName, Buffer> {
  const file = resolve(str(env, 'SECRETS_FILE', '.data/secrets.json'));
  let stored: Partial<Record<SecretName, string>> = {};
  if (!production && existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<SecretName, string>>;
  let generated = false;
  const out = {} as Record<SecretName, Buffer>;
  for (const name of SECRET_NAMES) {
    const raw = env[name] || stored[name];
    if (raw) {
      const key = Buffer.from(raw, 'base64');
      if (key.length < 32) throw new ConfigError(name, 'must be at least 32 bytes, base64-encoded');
      out[name] = key;
    } else if (production) {
      throw new ConfigError(name, 'is required in production (32+ random bytes, base64)');
    } else {
      out[name] = randomBytes(32);
      stored[name] = out[name].toString('base64');
      generated = true;
    }
  }
  if (generated) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return out;
}

const pem = (value: string) => value.replace(/\\n/g, '\n');

/** A file next to SECRETS_FILE, written once (the first process to start writes it, the others read it). */
function generatedOnce(env: Env, name: string, make: () => string): string {
  const file = generatedFile(env, name);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, make(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8');
}

/**
 * RELAY_DKIM_KEY (PEM, `\n` escapes allowed) and RELAY_DKIM_SELECTOR
 * (default `loginsign`). Outside production a missing key is generated once
 * (relay-dkim.pem next to SECRETS_FILE); its DNS record is in the relay's
 * startup banner.
 */
function relayDkim(env: Env, production: boolean): AppConfig['relay']['dkim'] {
  const selector = str(env, 'RELAY_DKIM_SELECTOR', 'loginsign');
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(selector)) throw new ConfigError('RELAY_DKIM_SELECTOR', 'must be a DNS label');
  let privateKey = env.RELAY_DKIM_KEY ? pem(env.RELAY_DKIM_KEY) : null;
  if (!privateKey && production) return null;
  privateKey ??= generatedOnce(env, 'relay-dkim.pem', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  let publicKey: string;
  try {
    publicKey = createPublicKey(createPrivateKey(privateKey)).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    throw new ConfigError('RELAY_DKIM_KEY', 'must be an RSA private key in PEM');
  }
  return { selector, privateKey, dnsRecord: `v=DKIM1; k=rsa; p=${publicKey}` };
}

/** RELAY_TLS_CERT / RELAY_TLS_KEY (PEM). Outside production the relay generates a self-signed pair when they are unset. */
function relayTls(env: Env): AppConfig['relay']['tls'] {
  const cert = env.RELAY_TLS_CERT ? pem(env.RELAY_TLS_CERT) : null;
  const key = env.RELAY_TLS_KEY ? pem(env.RELAY_TLS_KEY) : null;
  if (!cert !== !key) throw new ConfigError(cert ? 'RELAY_TLS_CERT' : 'RELAY_TLS_KEY', 'is set without its pair: RELAY_TLS_CERT and RELAY_TLS_KEY go together');
  return cert && key ? { cert, key } : null;
}

/** Where generated development files (relay TLS pair) live: next to SECRETS_FILE. */
export function generatedFile(env: Env, name: string): string {
  return resolve(dirname(resolve(str(env, 'SECRETS_FILE', '.data/secrets.json'))), name);
}

/** Jitter on retry delays (BullMQ: each delay is 70-100% of the exponential one). */
export const WEBHOOK_JITTER = 0.3;

/**
 * The smallest number of attempts whose exponential backoff (base, 2x, 4x,
 * ... at the low end of the jitter) adds up to at least 24 hours.
 */
export function attemptsSpanning24h(baseMs: number): number {
  let attempts = 1;
  let span = 0;
  while (span < 86_400_000) {
    span += baseMs * 2 ** (attempts - 1) * (1 - WEBHOOK_JITTER);
    attempts++;
  }
  return attempts;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = str(env, 'NODE_ENV', 'development') as NodeEnv;
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    throw new ConfigError('NODE_ENV', `must be development, production or test, got "${nodeEnv}"`);
  }
  const isProduction = nodeEnv === 'production';
  const apiProcesses = int(env, 'API_PROCESSES', 1, 1, 256);
  const port = int(env, 'PORT', 3000, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL', `http://localhost:${port}`, ['http:', 'https:']).replace(/\/+$/, '');
  // Production cookies are Secure: over plain http only a loopback origin (local smoke tests, benchmarks) works.
  if (isProduction && publicUrl.startsWith('http:') && !isLoopbackHost(new URL(publicUrl).hostname)) {
    throw new ConfigError('PUBLIC_URL', `must use https:// in production (plain http:// only for a loopback host), got "${publicUrl}"`);
  }
  const relayDomain = str(env, 'RELAY_DOMAIN', 'loginsign.com').toLowerCase();
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(relayDomain)) {
    throw new ConfigError('RELAY_DOMAIN', `must be a domain name, got "${relayDomain}"`);
  }
  const secrets = loadSecrets(env, isProduction);
  const webhookBackoffMs = int(env, 'WEBHOOK_BACKOFF_MS', 5000, 1, 3600_000);
  const refreshTokenIdleSeconds = int(env, 'REFRESH_TOKEN_IDLE_SECONDS', 14 * 86400, 1, 365 * 86400);
  const refreshTokenReuseSeconds = int(env, 'REFRESH_TOKEN_REUSE_SECONDS', Math.min(10, refreshTokenIdleSeconds - 1), 0, 300);
  if (refreshTokenReuseSeconds >= refreshTokenIdleSeconds) {
    throw new ConfigError('REFRESH_TOKEN_REUSE_SECONDS', `must be less than REFRESH_TOKEN_IDLE_SECONDS (${refreshTokenIdleSeconds}), got ${refreshTokenReuseSeconds}`);
  }
  const databaseUrl = url(env, 'DATABASE_URL', 'mysql://root@127.0.0.1:3306/loginsign', ['mysql:', 'mariadb:']);
  return {
    nodeEnv,
    isProduction,
    port,
    // Outside production only this machine can reach the server unless HOST says otherwise.
    host: str(env, 'HOST', isProduction ? '0.0.0.0' : '127.0.0.1'),
    publicUrl,
    databaseUrl,
    databaseReplicaUrls: replicaUrls(env, databaseUrl),
    databaseCreate: bool(env, 'DATABASE_CREATE', true),
    redisUrl: str(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    redis: redisTarget(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    queueRedis: redisTarget(env, 'QUEUE_REDIS_URL', str(env, 'REDIS_URL', 'redis://127.0.0.1:6379')),
    redisPrefix: redisPrefix(env),
    relayDomain,
    smtpUrl: env.SMTP_URL ? url(env, 'SMTP_URL', '', ['smtp:', 'smtps:']) : null,
    logLevel: str(env, 'LOG_LEVEL', nodeEnv === 'test' ? 'silent' : 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 100 * 1024, 1024, 50 * 1024 * 1024),
    codeTtlSeconds: int(env, 'CODE_TTL_SECONDS', 600, 1, 600),
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86400),
    sessionTtlSeconds: int(env, 'SESSION_TTL_SECONDS', 14 * 86400, 60, 90 * 86400),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', 30 * 86400, 60, 365 * 86400),
    refreshTokenReuseSeconds,
    refreshTokenIdleSeconds,
    signingKeyRotationDays: int(env, 'SIGNING_KEY_ROTATION_DAYS', 90, 1, 3650),
    signingKeyCacheSeconds: int(env, 'SIGNING_KEY_CACHE_SECONDS', 30, 1, 600),
    webhookBackoffMs,
    webhookMaxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', attemptsSpanning24h(webhookBackoffMs), 1, 100),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    webhookConcurrency: int(env, 'WEBHOOK_CONCURRENCY', 64, 1, 1000),
    outboxRelayIntervalMs: int(env, 'OUTBOX_RELAY_INTERVAL_MS', 1000, 10, 60_000),
    outboxLostAfterSeconds: int(env, 'OUTBOX_LOST_AFTER_SECONDS', 60, 1, 86_400),
    workerLockMs: int(env, 'WORKER_LOCK_MS', 30_000, 1000, 600_000),
    allowPrivateWebhookTargets: bool(env, 'ALLOW_PRIVATE_WEBHOOK_TARGETS', !isProduction),
    globalIdBlockSize: int(env, 'GLOBAL_ID_BLOCK_SIZE', 20, 1, 10_000),
    apiProcesses,
    // Recycling keep-alive connections only spreads clients over node:cluster children: one process has nothing to spread.
    httpMaxRequestsPerSocket: int(env, 'HTTP_MAX_REQUESTS_PER_SOCKET', apiProcesses > 1 ? 100 : 0, 0, 1_000_000),
    heapGrowingPercent: int(env, 'HEAP_GROWING_PERCENT', 50, 0, 300),
    webhookLogRetentionDays: int(env, 'WEBHOOK_LOG_RETENTION_DAYS', 30, 1, 3650),
    retention: {
      replyAliasDays: int(env, 'RELAY_REPLY_ALIAS_RETENTION_DAYS', 180, 1, 3650),
      failedWebhookDays: int(env, 'FAILED_WEBHOOK_RETENTION_DAYS', 90, 1, 3650),
    },
    metrics: {
      workerPort: int(env, 'WORKER_METRICS_PORT', 9464, 0, 65535),
      relayPort: int(env, 'RELAY_METRICS_PORT', 9465, 0, 65535),
      token: metricsToken(env),
    },
    relay: {
      smtpPort: int(env, 'RELAY_SMTP_PORT', 2525, 0, 65535),
      maxBytes: int(env, 'RELAY_MAX_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
      ratePerApplication: int(env, 'RELAY_RATE_PER_APP_PER_MINUTE', 1000, 1, 10_000_000),
      ratePerSender: int(env, 'RELAY_RATE_PER_SENDER_PER_MINUTE', 300, 1, 10_000_000),
      dnsServers: dnsServers(env),
      repliesPerUserPerHour: int(env, 'RELAY_REPLIES_PER_USER_PER_HOUR', 100, 1, 1_000_000),
      backoffMs: int(env, 'RELAY_BACKOFF_MS', 30_000, 1, 3600_000),
      maxAttempts: int(env, 'RELAY_MAX_ATTEMPTS', 12, 1, 100),
      concurrency: int(env, 'RELAY_CONCURRENCY', 16, 1, 1000),
      dkim: relayDkim(env, isProduction),
      tls: relayTls(env),
      devTlsFile: isProduction ? null : generatedFile(env, 'relay-tls.json'),
    },
    apiKeyRatePerMinute: int(env, 'API_KEY_RATE_PER_MINUTE', 600, 1, 1_000_000),
    login: {
      maxFailuresPerAccount: int(env, 'LOGIN_MAX_FAILURES_PER_ACCOUNT', 10, 1, 100_000),
      maxFailuresPerIp: int(env, 'LOGIN_MAX_FAILURES_PER_IP', 50, 1, 1_000_000),
      windowSeconds: int(env, 'LOGIN_WINDOW_SECONDS', 900, 1, 86400),
    },
    sessionIdleSeconds: int(env, 'SESSION_IDLE_SECONDS', 7 * 86400, 1, 90 * 86400),
    trustProxy: trustProxy(env),
    rateLimitAllowlist: cidrList(env, 'RATE_LIMIT_ALLOWLIST'),
    perIpHourly: {
      userSignups: int(env, 'SIGNUP_LIMIT_PER_IP_PER_HOUR', 20, 1, 1_000_000),
      developerSignups: int(env, 'DEVELOPER_SIGNUP_LIMIT_PER_IP_PER_HOUR', 20, 1, 1_000_000),
      resetRequests: int(env, 'RESET_LIMIT_PER_IP_PER_HOUR', 20, 1, 1_000_000),
    },
    secrets: {
      // A KeyObject, not a string: jsonwebtoken would otherwise try to parse a
      // string or Buffer as a PEM public key on every sign and verify (~0.4 ms).
      jwtSecret: createSecretKey(secrets.JWT_SECRET),
      sessionSecret: secrets.SESSION_SECRET,
      globalIdKey: secrets.GLOBAL_ID_KEY,
      dataEncryptionKey: secrets.DATA_ENCRYPTION_KEY.subarray(0, 32),
    },
  };
}
