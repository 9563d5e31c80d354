import { Attributes, context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * W3C trace context carried in a queued job's data, so the job's span
 * continues the trace of the request (or SMTP message) that queued it.
 * Empty when tracing is off or nothing is being traced.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The current trace context as a carrier to store in a job. */
export function currentTraceCarrier(): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const out: TraceCarrier = {};
  if (typeof carrier.traceparent === 'string') out.traceparent = carrier.traceparent;
  if (typeof carrier.tracestate === 'string') out.tracestate = carrier.tracestate;
  return out;
}

const tracer = () => trace.getTracer('loginsign');

/**
 * Runs `work` in a span named `name` of kind `kind`, a child of the context in
 * `carrier` when it holds one (a job queued during a traced request), else
 * the root of a new trace. A throw marks the span as failed and is rethrown.
 */
export function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, work: () => Promise<T>, carrier?: TraceCarrier): Promise<T> {
  const parent = carrier?.traceparent ? propagation.extract(context.active(), { ...carrier }) : context.active();
  return tracer().startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work();
    } catch (error: unknown) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A queued job's span (CONSUMER), continuing the trace stored in its data. */
export function inJobSpan<T>(name: string, carrier: TraceCarrier, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return inSpan(name, SpanKind.CONSUMER, attributes, work, carrier);
}

export { SpanKind };
