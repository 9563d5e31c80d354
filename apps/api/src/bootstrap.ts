import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { AppConfig } from '@app/config';
import { ApiModule } from './api.module';
import { createLogger, PinoNestLogger } from '@app/common';
import { createValidationPipe } from './shared/body';
import { IdParamPipe } from './shared/id-param.pipe';
import { registerInputGuards, requestIdFor } from './shared/input-guards';
import { registerConnectionRecycling } from './shared/connection-recycling';
import { requestLoggingOptions } from './shared/request-logging';
import { registerOversizedBodyDrain } from './shared/oversized-body';
import { helmetHeaders, registerSecurityHeaders } from './shared/security-headers';
import { clientErrorHandler, frameworkErrors, registerHttpLayerErrors } from './shared/framework-errors';
import { recordHttpMetrics } from './http-metrics';
import { createOpenApiDocument, OpenApiDocument } from './docs/openapi-document';
import { SpaOriginsService } from '@app/developer';
import { registerCors } from './oauth/cors';

/** Builds the HTTP app (used by main.ts and by the tests). */
export async function createApi(config: AppConfig): Promise<NestFastifyApplication> {
  const logger = createLogger(config, 'api');
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    // TRUST_PROXY: unset = request.ip is the socket address and X-Forwarded-For is ignored.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    requestIdHeader: false,
    genReqId: requestIdFor,
    routerOptions: { ignoreTrailingSlash: false },
    // Errors of the router and the HTTP parser answer in the same shape as the
    // rest (http/common/framework-errors.ts); a missing Host is refused there too.
    frameworkErrors: frameworkErrors as never,
    clientErrorHandler,
    http: { requireHostHeader: false },
    ...requestLoggingOptions(logger),
  });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  // Errors raised by Fastify itself (body parsing, size limit) reach Nest's error
  // handler, hence ErrorFilter, which maps their codes (shared/errors.ts).
  // Any other Content-Type is read as text so the endpoint can answer 415 (or 403 for CSRF) itself.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  registerInputGuards(fastify);

  await app.register(fastifyCookie as never);
  const securityHeaders = helmetHeaders({
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
  registerSecurityHeaders(fastify, securityHeaders);
  registerHttpLayerErrors(fastify);
  registerOversizedBodyDrain(fastify);
  registerConnectionRecycling(fastify, config.httpMaxRequestsPerSocket);
  recordHttpMetrics(fastify);
  registerCors(fastify, app.get(SpaOriginsService));
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  app.useGlobalPipes(new IdParamPipe(), createValidationPipe());
  // /openapi.json: generated from the controllers' decorators once, at startup.
  app.get(OpenApiDocument).document = createOpenApiDocument(app, config);
  app.enableShutdownHooks();
  return app;
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count n believes the n nearest
 * X-Forwarded-For entries, as the contract says; Fastify 5.12 reads a bare
 * number as "trust nothing", so the count becomes the trust function it means.
 */
function fastifyTrustProxy(trust: AppConfig['trustProxy']) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}
