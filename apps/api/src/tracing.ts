// Imported first by main.ts: tracing has to start before Nest, Fastify, mysql2
// and ioredis are loaded. Imports the lib file itself, not @app/common, whose
// index loads Nest. Does nothing unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { startTracing } from '../../../libs/common/src/tracing/start';

startTracing('loginsign-api');
