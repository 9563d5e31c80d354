import { AppError } from '@app/common';
import { parseScope } from '../scopes';

/** The optional `scope` of a token request (RFC 6749 3.3): null when absent, 400 invalid_scope when malformed. */
export function requestedScope(body: Record<string, string>): string[] | null {
  if (body.scope === undefined) return null;
  try {
    return parseScope(body.scope);
  } catch (error) {
    throw new AppError('invalid_scope', (error as Error).message);
  }
}
