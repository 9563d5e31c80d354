/**
 * The API's error codes (the `error` field of every error answer) and the HTTP status each one maps to.
 * Domain code throws `AppError`; the API's exception filter renders it as
 * `{error, error_description}`.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_client: 401,
  unauthorized: 401,
  invalid_credentials: 401,
  mfa_required: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  // 401 at resource endpoints (RFC 9449 7.1); see apps/api/src/oauth/bearer.ts.
  invalid_dpop_proof: 400,
  unsupported_response_type: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  server_error: 500,
  temporarily_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  /** Extra response headers (e.g. WWW-Authenticate, Retry-After). */
  headers: Record<string, string> = {};
  /**
   * The input field the error is about, as the request names it (a body
   * property path such as `redirectUris[0]`), so a form can say it in its own
   * words. Not part of the JSON error response.
   */
  field?: string;

  constructor(
    readonly code: ErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.status = ERROR_STATUS[code];
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  withField(field: string): this {
    this.field = field;
    return this;
  }
}

export const notFound = (what = 'The resource') => new AppError('not_found', `${what} was not found.`);
