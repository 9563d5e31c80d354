import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import { FastifyInstance } from 'fastify';
import { AppConfig } from '@app/config';
import { ApiModule } from './api.module';
import { createLogger, PinoNestLogger } from '@app/common';
import { createValidationPipe } from './http/common/body';
import { recordHttpMetrics } from './http-metrics';

/** Builds the HTTP app (used by main.ts and by the tests). */
export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const logger = createLogger(config, 'api');
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.isProduction,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: false },
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  // Errors raised by Fastify itself (body parsing, size limit) reach Nest's error
  // handler, hence ErrorFilter, which maps their codes (http/common/errors.ts).
  // Any other Content-Type is read as text so the endpoint can answer 415 (or 403 for CSRF) itself.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(fastifyCookie as never);
  await app.register(fastifyHelmet as never, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'https:', 'data:'],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    hsts: config.publicUrl.startsWith('https:'),
    // Not helmet's no-referrer: with it Chromium sends `Origin: null` on our own
    // form posts, which the CSRF check must refuse. same-origin still keeps URLs
    // (codes, state) from leaking to other sites.
    referrerPolicy: { policy: 'same-origin' },
  });
  recordHttpMetrics(fastify);
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  return app;
}
