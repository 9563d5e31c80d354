import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
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

/** Structured JSON logs; credentials in headers and URLs are redacted. */
export function createLogger(config: AppConfig, name: string): Logger {
  return pino({
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
  });
}

/** Nest's logger on top of pino, so framework lines are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
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
