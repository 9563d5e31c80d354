import { HttpException } from '@nestjs/common';
import { AppError, ERROR_STATUS, ErrorCode } from '@app/common';

const STATUS_CODE: Record<number, ErrorCode> = Object.fromEntries(
  Object.entries(ERROR_STATUS)
    .filter(
      ([code]) =>
        ![
          'invalid_client',
          'invalid_credentials',
          'invalid_token',
          'invalid_grant',
          'access_denied',
          'insufficient_scope',
          'unauthorized_client',
          'unsupported_grant_type',
          'invalid_scope',
          'invalid_dpop_proof',
          'unsupported_response_type',
        ].includes(code),
    )
    .map(([code, status]) => [status, code as ErrorCode]),
);

const DEFAULT_DESCRIPTION: Partial<Record<ErrorCode, string>> = {
  not_found: 'No such endpoint or resource.',
  method_not_allowed: 'This method is not allowed here.',
  payload_too_large: 'The request body is too large.',
  unsupported_media_type: 'This Content-Type is not supported here.',
  rate_limited: 'Too many requests. Try again later.',
  server_error: 'Something went wrong on our side.',
  temporarily_unavailable: 'The service is temporarily unavailable.',
  invalid_request: 'The request is malformed.',
};

/** Fastify's own error codes (body parsing etc.) that we answer specifically. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'The request body is empty but Content-Type says JSON.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'This Content-Type is not supported here.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'The Content-Length header does not match the body.'],
};

/** MySQL or Redis unreachable: a clean 503, not a 500 (nothing was changed, the client may retry). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
]);

/** ioredis errors while Redis is down or failing over (a promoted replica takes over within seconds). */
const REDIS_OUTAGE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const REDIS_OUTAGE_MESSAGE =
  /^(Connection is closed|Stream isn't writeable|READONLY|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|MOVED|ASK|Too many Cluster redirections|Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable)/;

export function isInfrastructureOutage(error: unknown, seen = new Set<unknown>()): boolean {
  const e = error as { code?: string; name?: string; message?: string; driverError?: { code?: string }; previousErrors?: unknown[] };
  if (UNAVAILABLE_CODES.has(e?.code ?? '') || UNAVAILABLE_CODES.has(e?.driverError?.code ?? '')) return true;
  // A MULTI refused as a whole (EXECABORT) because its commands met a demoted or unavailable node.
  // ioredis can list the EXECABORT error among its own previous errors: each error is looked at once.
  seen.add(error);
  const previous = e?.previousErrors?.filter((p) => !seen.has(p)) ?? [];
  if (previous.length) return previous.every((p) => isInfrastructureOutage(p, seen));
  return REDIS_OUTAGE_NAMES.has(e?.name ?? '') || REDIS_OUTAGE_MESSAGE.test(e?.message ?? '');
}

/** Any thrown value -> an AppError (an error code and its description). Unknown errors become server_error. */
export function toAppError(error: unknown): { appError: AppError; unexpected: boolean } {
  if (error instanceof AppError) return { appError: error, unexpected: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = STATUS_CODE[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
    return { appError: new AppError(code, DEFAULT_DESCRIPTION[code] ?? error.message), unexpected: status >= 500 };
  }
  const fastifyCode = (error as { code?: string })?.code;
  if (fastifyCode && FASTIFY_ERRORS[fastifyCode]) {
    const [code, description] = FASTIFY_ERRORS[fastifyCode];
    return { appError: new AppError(code, description), unexpected: false };
  }
  const status = (error as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = STATUS_CODE[status] ?? 'invalid_request';
    return { appError: new AppError(code, DEFAULT_DESCRIPTION[code] ?? 'The request is malformed.'), unexpected: false };
  }
  if (isInfrastructureOutage(error)) {
    return { appError: new AppError('temporarily_unavailable', 'A backing service is unavailable. Try again shortly.').withHeader('Retry-After', '5'), unexpected: true };
  }
  return { appError: new AppError('server_error', DEFAULT_DESCRIPTION.server_error!), unexpected: true };
}
