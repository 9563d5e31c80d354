import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { FastifyInstance } from 'fastify';
import { AppError, isWellFormedUtf16, jsonShapeProblem } from '@app/common';

/** Deepest nesting a request body may have; no endpoint takes more than a few levels. */
export const MAX_BODY_DEPTH = 32;

/** A client's request id is kept only when it looks like one (letters, digits, `-_.:`, up to 128). */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The request's id: the client's `x-request-id` when well-formed, else a fresh UUID. */
export function requestIdFor(request: Pick<IncomingMessage, 'headers'>): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Before any validation: a body nested deeper than MAX_BODY_DEPTH, or with a
 * string that is not well-formed UTF-16 (a lone surrogate, which JSON's
 * `\ud800` escape can carry), and a query string with such a value, are
 * refused with 400 rather than reaching validators that recurse or that
 * would store something other than what was sent.
 */
export function registerInputGuards(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const refusal = illFormedInputError(request.body, request.query);
    if (refusal) done(refusal);
    else done();
  });
}

/** The 400 for a body nested too deeply or any text (body or query) that is not well-formed UTF-16; null when the input is fine. */
function illFormedInputError(body: unknown, queryInput: unknown): AppError | null {
  const bodyProblem = jsonShapeProblem(body, MAX_BODY_DEPTH);
  if (bodyProblem?.problem === 'too_deep') return new AppError('invalid_request', `The request body is nested too deeply (at most ${MAX_BODY_DEPTH} levels).`);
  if (bodyProblem) return new AppError('invalid_request', 'The request body contains text that is not well-formed Unicode.');
  const query = queryInput as Record<string, unknown> | undefined;
  for (const value of Object.values(query ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && !isWellFormedUtf16(v))) return new AppError('invalid_request', 'The query contains text that is not well-formed Unicode.');
  }
  return null;
}
