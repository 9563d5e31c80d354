import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from '@app/common';

/** Every resource id in a path is short and URL-safe ASCII (prefixes, base64url, digits). */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Parameters that are not resource ids, by name: `:domain` (sender domains) is a DNS name. */
const OTHER_PARAMS: Record<string, RegExp> = { domain: /^[A-Za-z0-9.-]{1,253}$/ };

export function isWellFormedId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/**
 * Path parameters are resource ids: one that cannot be an id (another script,
 * punctuation, too long) names nothing, so it is 404 before any query runs.
 * A `:domain` parameter is a DNS name instead.
 */
@Injectable()
export class IdParamPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'param' || !metadata.data) return value;
    const pattern = Object.hasOwn(OTHER_PARAMS, metadata.data) ? OTHER_PARAMS[metadata.data] : ID;
    if (typeof value !== 'string' || !pattern.test(value)) throw new AppError('not_found', 'No such endpoint or resource.');
    return value;
  }
}
