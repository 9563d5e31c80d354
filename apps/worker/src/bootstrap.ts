import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@app/config';
import { WorkerModule } from './worker.module';
import { createLogger, PinoNestLogger } from '@app/common';

export async function createWorker(config: AppConfig) {
  const logger = createLogger(config, 'worker');
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: new PinoNestLogger(logger) });
  // SIGTERM/SIGINT: BullMQ workers finish their active jobs, then connections close.
  app.enableShutdownHooks();
  return { app, logger };
}
