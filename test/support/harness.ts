import { randomBytes } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig, loadConfig } from '@app/config';
import { dropDatabase, migrate } from '@app/database';
import { createApi } from '../../apps/api/src/bootstrap';

const BASE_DB = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/loginsign_test';

/** The environment of a test run: its own database, Redis prefix and secrets. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const suffix = randomBytes(4).toString('hex');
  const url = new URL(BASE_DB);
  url.pathname = `/${url.pathname.replace(/^\//, '') || 'loginsign_test'}_${suffix}`;
  return {
    NODE_ENV: 'test',
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    RELAY_METRICS_PORT: '0',
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `lstest-${suffix}`,
    SECRETS_FILE: `/tmp/loginsign-test-secrets-${suffix}.json`,
    JWT_SECRET: randomBytes(32).toString('base64'),
    SESSION_SECRET: randomBytes(32).toString('base64'),
    GLOBAL_ID_KEY: randomBytes(32).toString('base64'),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Every test signs up from 127.0.0.1; the per-IP sign-up limits are tested with their own values.
    SIGNUP_LIMIT_PER_IP_PER_HOUR: '100000',
    DEVELOPER_SIGNUP_LIMIT_PER_IP_PER_HOUR: '100000',
    ...overrides,
  };
}

/** A fresh database and Redis prefix per test file, created and migrated here. */
export async function testConfig(overrides: Record<string, string> = {}): Promise<AppConfig> {
  return migratedConfig(testEnv(overrides));
}

async function migratedConfig(env: Record<string, string>): Promise<AppConfig> {
  const config = loadConfig(env);
  await migrate(config);
  return config;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** The environment the API was configured from (give it to worker processes). */
  env: Record<string, string>;
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Boots the real API on a random port against its own database. PUBLIC_URL
 * becomes http://<publicHost>:<port>: 127.0.0.1 by default, `localhost` for
 * tests that need a domain name (WebAuthn refuses IP addresses as RP IDs).
 */
export async function startApi(overrides: Record<string, string> = {}, options: { publicHost?: string } = {}): Promise<TestApp> {
  const env = testEnv(overrides);
  const config = await migratedConfig(env);
  const app = await createApi(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://${options.publicHost ?? '127.0.0.1'}:${address.port}`;
  (config as { publicUrl: string }).publicUrl = baseUrl;
  env.PUBLIC_URL = baseUrl;
  return {
    app,
    config,
    env,
    baseUrl,
    async close() {
      await app.close();
      await dropDatabase(config.databaseUrl);
    },
  };
}
