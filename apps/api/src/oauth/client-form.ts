import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { isFormRequest } from '../shared/csrf-rules';

/** The body of a client-authenticated endpoint: a form, each parameter at most once, nothing in the query. */
export function readClientForm(req: FastifyRequest): Record<string, string> {
  if (req.url.includes('?')) throw new AppError('invalid_request', 'Send parameters in the form body, not in the query string.');
  if (!isFormRequest(req)) throw new AppError('invalid_request', 'Send the request as application/x-www-form-urlencoded.');
  const body = (req.body ?? {}) as Record<string, string | string[]>;
  const repeated = Object.entries(body).find(([, value]) => Array.isArray(value));
  if (repeated) throw new AppError('invalid_request', `The parameter ${repeated[0]} was sent more than once.`);
  return body as Record<string, string>;
}
