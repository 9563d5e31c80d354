import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@app/config';
import { createLogger, PinoNestLogger } from '@app/common';
import { RelayAppModule } from './relay-app.module';
import { RelaySmtpServer } from './smtp.server';

export async function createRelay(config: AppConfig) {
  const logger = createLogger(config, 'relay');
  const app = await NestFactory.createApplicationContext(RelayAppModule.forRoot(config), { logger: new PinoNestLogger(logger) });
  app.enableShutdownHooks();
  const port = await app.get(RelaySmtpServer).listen();
  return { app, logger, port };
}
