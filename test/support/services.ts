import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { bullRoot, randomToken, RedisModule, SessionModule } from '@app/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule, dropDatabase } from '@app/database';
import { ApplicationsService, DevelopersService, NewApplication } from '@app/developer';
import { AccountsService } from '@app/identity';
import { testConfig } from './harness';

/** Lib modules booted without HTTP, on their own database and Redis prefix. */
export interface TestServices {
  ctx: INestApplicationContext;
  config: AppConfig;
  /** Closes the modules and drops the database. */
  close(): Promise<void>;
}

/**
 * Boots `modules` with the infrastructure every app gives them (config,
 * database, Redis, sessions, the BullMQ producer) on the real MariaDB and
 * Redis, for service-level tests.
 */
export async function startServices(...modules: (Type | DynamicModule)[]): Promise<TestServices> {
  const config = await testConfig();
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), DatabaseModule, RedisModule, SessionModule, bullRoot('producer'), ...modules],
    }).compile();
    const ctx = await moduleRef.init();
    return {
      ctx,
      config,
      close: async () => {
        await ctx.close();
        await dropDatabase(config.databaseUrl);
      },
    };
  } catch (error) {
    await dropDatabase(config.databaseUrl);
    throw error;
  }
}

/** A new developer account; returns its id. */
export async function createDeveloper(ctx: INestApplicationContext): Promise<number> {
  const developer = await ctx.get(DevelopersService).signup({ name: 'Dev', email: `dev-${randomToken(4)}@example.com`, password: 'a long password' });
  return developer.id;
}

/** A new application of the developer (redirect URI `https://app.example.com/cb` unless given); returns its id. */
export async function createApplication(ctx: INestApplicationContext, developerId: number, input: Partial<NewApplication> = {}): Promise<string> {
  const created = await ctx.get(ApplicationsService).create(developerId, { name: 'App', redirectUris: ['https://app.example.com/cb'], ...input });
  return created.application.id;
}

/** A new end user with a unique address; returns the sign-up result. */
export function signUpUser(ctx: INestApplicationContext, name = 'Ada Lovelace') {
  return ctx.get(AccountsService).signUp({ name, email: `u-${randomToken(4)}@example.com`, password: 'a long password', region: 'UK' });
}
