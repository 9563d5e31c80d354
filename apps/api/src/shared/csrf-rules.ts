import { FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { AppError } from '@app/common';

/** True when the request comes from another site (Origin or Fetch Metadata says so). */
export function isCrossSite(request: FastifyRequest, config: AppConfig): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  return origin !== new URL(config.publicUrl).origin;
}

function contentType(request: FastifyRequest): string {
  return String(request.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

export function isJsonRequest(request: FastifyRequest) {
  return contentType(request) === 'application/json';
}

export function isFormRequest(request: FastifyRequest) {
  return contentType(request) === 'application/x-www-form-urlencoded';
}

function hasBody(request: FastifyRequest): boolean {
  return Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
}

/**
 * The CSRF rule for JSON writes that a cookie may authorise: a
 * foreign Origin or `Sec-Fetch-Site: cross-site` is refused, and so (when
 * `jsonOnly`) is a body that is not application/json (what an HTML form or
 * a "simple" cross-site fetch would send). Both 403 `forbidden`.
 */
export function refuseCrossSiteWrite(request: FastifyRequest, config: AppConfig, jsonOnly: boolean): void {
  if (isCrossSite(request, config)) throw new AppError('forbidden', 'Cross-site requests are not allowed.');
  if (jsonOnly && hasBody(request) && !isJsonRequest(request)) {
    throw new AppError('forbidden', 'Cookie-authenticated writes must send application/json.');
  }
}
