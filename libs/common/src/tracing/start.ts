/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * Each app's `tracing.ts` calls `startTracing` before anything else is
 * required: the instrumentations patch http, fastify, mysql2 and ioredis as
 * they load, so the SDK must be running first. This file imports nothing at
 * the top level: with the variable unset, the SDK is never loaded (no cost).
 *
 * Only traces are exported (OTLP/HTTP, JSON encoding, to
 * `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`); metrics stay on Prometheus.
 * A trace starts at an HTTP request, an SMTP message or a queued job without
 * a parent; database and Redis calls outside one (pollers, sweeps) are not
 * recorded. The standard OTEL_* variables (OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*...) apply.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, only when tracing is on */

/** Query parameters whose values never reach a span. */
const SENSITIVE_QUERY = [
  'code',
  'state',
  'token',
  'access_token',
  'refresh_token',
  'id_token_hint',
  'login_hint',
  'nonce',
  'code_challenge',
  'code_verifier',
  'client_secret',
  'email',
  'q',
  'search',
  'return_to',
  'key',
  'secret',
  'sig',
  'signature',
];

let sdk: { shutdown(): Promise<void> } | null = null;

/** Starts the SDK for `serviceName` (OTEL_SERVICE_NAME overrides it); a no-op without OTEL_EXPORTER_OTLP_ENDPOINT. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdk || !env.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  // Metrics and logs have their own channels (Prometheus, stdout): the SDK exports traces only unless told otherwise.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  env.OTEL_SERVICE_NAME ||= serviceName;

  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { NodeSDK, tracing } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { ParentBasedSampler, SamplingDecision } = tracing;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { FastifyInstrumentation } = require('@opentelemetry/instrumentation-fastify') as typeof import('@opentelemetry/instrumentation-fastify');
  const { MySQL2Instrumentation } = require('@opentelemetry/instrumentation-mysql2') as typeof import('@opentelemetry/instrumentation-mysql2');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');

  // Roots are requests, SMTP messages and jobs (SERVER / CONSUMER spans); children follow their parent.
  const roots: import('@opentelemetry/sdk-node').tracing.Sampler = {
    shouldSample: (_context, _traceId, _name, kind) => ({
      decision: kind === api.SpanKind.SERVER || kind === api.SpanKind.CONSUMER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
    }),
    toString: () => 'LoginSignRoots',
  };
  const quiet = new Set(['/health', '/health/live', '/health/ready', '/metrics']);
  const node = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME,
    traceExporter: new OTLPTraceExporter(),
    sampler: new ParentBasedSampler({ root: roots }),
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not traced.
        ignoreIncomingRequestHook: (req) => quiet.has((req.url ?? '').split('?')[0]),
        // Codes, tokens, state and addresses in query strings (incoming and in webhook URLs) are not exported.
        redactedQueryParamsServer: SENSITIVE_QUERY,
        redactedQueryParams: SENSITIVE_QUERY,
      }),
      new FastifyInstrumentation(),
      // Statements only: values (addresses, hashes) are never written into db.query.text.
      new MySQL2Instrumentation({ maskStatement: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  node.start();
  sdk = node;
  process.once('beforeExit', () => void stopTracing());
  return true;
}

/** Sends the spans still buffered and stops the SDK (a no-op when tracing is off); never rejects. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  await running?.shutdown().catch(() => undefined);
}
