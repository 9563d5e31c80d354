import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import { AppConfig } from '@app/config';

const SECRET_PARAMS = /([?&](?:code|client_secret|code_verifier|access_token|refresh_token|token|id_token_hint|password|_csrf)=)[^&]*/gi;

/** Query values that are credentials never reach the log. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]');
}

/**
 * Errors without the SQL text and its parameters: a failed INSERT would
 * otherwise log what it tried to write (hashes, addresses, token ids).
 */
function serializeError(error: Error) {
  const { sql, parameters, query, driverError, ...rest } = pino.stdSerializers.err(error) as Record<string, unknown> & { driverError?: { code?: unknown; errno?: unknown } };
  return driverError ? { ...rest, driverError: { code: driverError.code, errno: driverError.errno } } : rest;
}

/** Readable lines for a developer's terminal; JSON (one object a line) everywhere else and always in production. */
export function usesPrettyLogs(config: Pick<AppConfig, 'logFormat' | 'isProduction' | 'nodeEnv'>, stdoutIsTty = Boolean(process.stdout.isTTY)): boolean {
  if (config.logFormat !== 'auto') return config.logFormat === 'pretty';
  return stdoutIsTty && !config.isProduction && config.nodeEnv !== 'test';
}

function prettyStream(): DestinationStream {
  return pretty({
    colorize: Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,context,reqId',
    messageFormat: '{if context}[{context}] {end}{msg}',
    singleLine: true,
    sync: true,
  });
}

/** The API's line per answered request (apps/api/src/shared/request-logging.ts). */
interface CompletedRequestLog {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/** For the readable console: the line per request reads `GET /login 200 4 ms`. */
function compactRequestLines(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn) {
  const [first, message] = args as unknown[];
  const done = first as CompletedRequestLog;
  if (message === 'request completed' && done?.req) {
    const { method: verb, url } = done.req;
    return method.apply(this, [`${verb} ${redactUrl(url ?? '')} ${done.res?.statusCode} ${Math.round(done.responseTime ?? 0)} ms`]);
  }
  return method.apply(this, args);
}

/**
 * Structured logs (JSON, or readable lines on a terminal); credentials in headers and URLs are redacted.
 * `destination`: where JSON lines go instead of stdout (tests read them).
 */
export function createLogger(config: AppConfig, name: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.client_secret', '*.access_token', '*.refresh_token'],
      censor: '[REDACTED]',
    },
    serializers: {
      req: (req: { id: string; method: string; url: string; ip?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url), ip: req.ip }),
      err: serializeError,
    },
  };
  if (!usesPrettyLogs(config)) return destination ? pino(options, destination) : pino(options);
  return pino({ ...options, hooks: { logMethod: compactRequestLines } }, prettyStream());
}

/** Nest's own start-up chatter (one line per module and per route): debug, so the default level shows only its warnings. */
const NEST_BOOTSTRAP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestApplicationContext']);

/** Nest's logger on top of pino, so framework lines are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    if (context !== undefined && NEST_BOOTSTRAP_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
