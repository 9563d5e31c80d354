import { FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';

/** True when the request comes from another site (Origin or Fetch Metadata says so). */
export function isCrossSite(request: FastifyRequest, config: AppConfig): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!origin) return false;
  return origin !== new URL(config.publicUrl).origin;
}

function contentType(request: FastifyRequest): string {
  return String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

export function isJsonRequest(request: FastifyRequest) {
  return contentType(request) === 'application/json';
}

export function isFormRequest(request: FastifyRequest) {
  return contentType(request) === 'application/x-www-form-urlencoded';
}
