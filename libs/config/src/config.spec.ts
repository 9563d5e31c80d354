import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attemptsSpanning24h, loadConfig } from './config';

const secrets = () => ({
  JWT_SECRET: randomBytes(32).toString('base64'),
  SESSION_SECRET: randomBytes(32).toString('base64'),
  GLOBAL_ID_KEY: randomBytes(32).toString('base64'),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
});

describe('loadConfig', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'ls-config-')), 'secrets.json');

  it('has defaults that work on a developer machine', () => {
    const config = loadConfig({ SECRETS_FILE: file() });
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: 'mysql://root@127.0.0.1:3306/loginsign',
      redisUrl: 'redis://127.0.0.1:6379',
      publicUrl: 'http://localhost:3000',
      relayDomain: 'loginsign.com',
      webhookBackoffMs: 5000,
      metrics: { workerPort: 9464, relayPort: 9465, token: null },
    });
  });

  it('recycles keep-alive connections only when there are several API processes to spread them over, unless told', () => {
    expect(loadConfig({ SECRETS_FILE: file() }).httpMaxRequestsPerSocket).toBe(0);
    expect(loadConfig({ SECRETS_FILE: file(), API_PROCESSES: '2' }).httpMaxRequestsPerSocket).toBe(100);
    expect(loadConfig({ SECRETS_FILE: file(), API_PROCESSES: '2', HTTP_MAX_REQUESTS_PER_SOCKET: '0' }).httpMaxRequestsPerSocket).toBe(0);
    expect(loadConfig({ SECRETS_FILE: file(), HTTP_MAX_REQUESTS_PER_SOCKET: '500' }).httpMaxRequestsPerSocket).toBe(500);
  });

  it('lets the heap grow 50% past its live data unless told (0: V8 decides)', () => {
    expect(loadConfig({ SECRETS_FILE: file() }).heapGrowingPercent).toBe(50);
    expect(loadConfig({ SECRETS_FILE: file(), HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
  });

  it('reads the replica list and the purge policy', () => {
    const config = loadConfig({
      SECRETS_FILE: file(),
      DATABASE_REPLICA_URLS: ' mysql://ro@r1:3306/loginsign , mysql://ro@r2/loginsign',
      DATABASE_CREATE: 'false',
      RELAY_REPLY_ALIAS_RETENTION_DAYS: '30',
    });
    expect(config.databaseReplicaUrls).toEqual(['mysql://ro@r1:3306/loginsign', 'mysql://ro@r2/loginsign']);
    expect(config.databaseCreate).toBe(false);
    expect(config.retention).toEqual({ replyAliasDays: 30, failedWebhookDays: 90 });
    expect(loadConfig({ SECRETS_FILE: file() })).toMatchObject({ databaseReplicaUrls: [], databaseCreate: true });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'postgres://x/y'],
    ['DATABASE_REPLICA_URLS', 'mysql://r1/loginsign,not a url'],
    ['DATABASE_REPLICA_URLS', 'postgres://r1/loginsign'],
    ['DATABASE_REPLICA_URLS', 'mysql://r1/otherdb'],
    ['DATABASE_CREATE', 'maybe'],
    ['HTTP_MAX_REQUESTS_PER_SOCKET', '-1'],
    ['HEAP_GROWING_PERCENT', '301'],
    ['HEAP_GROWING_PERCENT', 'fast'],
    ['RELAY_REPLY_ALIAS_RETENTION_DAYS', '0'],
    ['FAILED_WEBHOOK_RETENTION_DAYS', 'x'],
    ['REDIS_URL', 'http://127.0.0.1'],
    ['REDIS_URL', 'redis+sentinel://127.0.0.1:26379'],
    ['REDIS_URL', 'redis+sentinel://a:26379,b:99999/mymaster'],
    ['REDIS_URL', 'redis+cluster://a:7001,b:7002/0'],
    ['REDIS_URL', 'redis+cluster://a:7001,,b:7002'],
    ['QUEUE_REDIS_URL', 'redis+mesh://a:7001'],
    ['REDIS_PREFIX', '{ls}'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['RELAY_DOMAIN', 'no spaces allowed.com x'],
    ['NODE_ENV', 'staging'],
    ['WEBHOOK_BACKOFF_MS', '-5'],
    ['ALLOW_PRIVATE_WEBHOOK_TARGETS', 'maybe'],
    ['JWT_SECRET', 'c2hvcnQ='],
    ['WORKER_METRICS_PORT', '65536'],
    ['RELAY_METRICS_PORT', 'x'],
    ['METRICS_TOKEN', 'short'],
    ['LOG_FORMAT', 'xml'],
    ['METRICS_TOKEN', 'has a space in the middle'],
    ['DNS_SERVERS', '127.0.0.1:53,not-an-ip'],
    ['RELAY_DKIM_KEY', 'not a pem'],
    ['RELAY_DKIM_SELECTOR', 'two words'],
    ['RELAY_TLS_CERT', '-----BEGIN CERTIFICATE-----'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ SECRETS_FILE: file(), ...secrets(), [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('reads one-node, Sentinel and Cluster Redis URLs; the queues default to REDIS_URL', () => {
    const sentinel = loadConfig({ SECRETS_FILE: file(), REDIS_URL: 'redis+sentinel://:p%40ss@s1:26380,[::1]/main-set/2?sentinelPassword=sp' });
    expect(sentinel.redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: '::1', port: 26379 },
      ],
      masterName: 'main-set',
      db: 2,
      sentinelPassword: 'sp',
      username: undefined,
      password: 'p@ss',
      tls: false,
    });
    expect(sentinel.queueRedis).toEqual(sentinel.redis);
    const cluster = loadConfig({ SECRETS_FILE: file(), REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_REDIS_URL: 'rediss+cluster://n1:7001,n2:7002' });
    expect(cluster.redis).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(cluster.queueRedis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7001 },
        { host: 'n2', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: true,
    });
  });

  it('requires every secret from the environment in production', () => {
    const { JWT_SECRET, ...others } = secrets();
    expect(() => loadConfig({ NODE_ENV: 'production', ...others })).toThrow(/JWT_SECRET is required in production/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET, ...others }).isProduction).toBe(true);
  });

  it('generates development secrets once and keeps them across restarts', () => {
    const path = file();
    const first = loadConfig({ SECRETS_FILE: path });
    const second = loadConfig({ SECRETS_FILE: path });
    expect(second.secrets.jwtSecret.export().equals(first.secrets.jwtSecret.export())).toBe(true);
    expect(second.secrets.globalIdKey.equals(first.secrets.globalIdKey)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>).sort()).toEqual(['DATA_ENCRYPTION_KEY', 'GLOBAL_ID_KEY', 'JWT_SECRET', 'SESSION_SECRET']);
  });

  it('generates the relay DKIM key once outside production, none in production without RELAY_DKIM_KEY', () => {
    const path = file();
    const first = loadConfig({ SECRETS_FILE: path, DNS_SERVERS: '127.0.0.1:5353, [::1]:53' });
    expect(first.relay.dnsServers).toEqual(['127.0.0.1:5353', '[::1]:53']);
    expect(first.relay.dkim).toMatchObject({ selector: 'loginsign', dnsRecord: expect.stringMatching(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/) as unknown });
    expect(loadConfig({ SECRETS_FILE: path }).relay.dkim?.dnsRecord).toBe(first.relay.dkim?.dnsRecord);
    expect(loadConfig({ NODE_ENV: 'production', ...secrets() }).relay.dkim).toBeNull();
  });

  it('derives enough webhook attempts for the backoff to span 24 hours', () => {
    for (const base of [50, 5000, 60_000]) {
      const attempts = attemptsSpanning24h(base);
      let span = 0;
      for (let i = 0; i < attempts - 1; i++) span += base * 2 ** i * 0.7;
      expect(span).toBeGreaterThanOrEqual(86_400_000);
    }
  });
});
