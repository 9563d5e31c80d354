import type { FastifyBaseLogger, FastifyReply, FastifyRequest, LogController as FastifyLogController } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

// From Fastify's own file: with tracing on, the instrumentation replaces the `fastify` module's exports
// with a wrapper that carries the factory only, and LogController would be undefined.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LogController } = require('fastify/lib/log-controller') as { LogController: typeof FastifyLogController };

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * `request.log` without the cost of a pino child per request (~4% of a
 * GET /api/user): the child, which serialises the request id into its
 * bindings, is made on the first line the request logs at an enabled level,
 * which a healthy request under the default level never does.
 */
export class LazyRequestLogger {
  private made?: Logger;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  isLevelEnabled(level: string): boolean {
    return this.made || this.options.level ? this.logger.isLevelEnabled(level) : this.parent.isLevelEnabled(level);
  }

  private write(level: LogMethod, args: unknown[]): void {
    if (this.isLevelEnabled(level)) this.logger[level](...(args as [unknown]));
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }
}

/**
 * Fastify's request lines, cut to one per answered request (Fastify writes
 * two, "incoming request" and "request completed": ~22% of /api/user's
 * throughput at info, docs/performance.md). The line carries the request id,
 * the request as the logger's `req` serializer writes it (method, redacted
 * URL, client address), status and time, and is written through the process
 * logger, so no per-request child is made for it.
 */
export class OneLineRequestLog extends LogController {
  constructor(private readonly logger: Logger) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const level: Level = error ? 'error' : 'info';
    if (!this.logger.isLevelEnabled(level)) return;
    const line = { reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    if (error) this.logger.error({ ...line, err: error }, 'request errored');
    else this.logger.info(line, 'request completed');
  }

  /** Fastify's own 404 line names the raw URL; this one goes through the redacting serializer. */
  override routeNotFound(request: FastifyRequest): void {
    if (this.logger.isLevelEnabled('info')) this.logger.info({ reqId: request.id, req: request }, 'route not found');
  }
}

/** Fastify options for request logging: lazy per-request children, one line per request. */
export function requestLoggingOptions(logger: Logger) {
  return {
    logController: new OneLineRequestLog(logger),
    childLoggerFactory: (parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) =>
      new LazyRequestLogger(parent as unknown as Logger, bindings, options) as unknown as FastifyBaseLogger,
  };
}
