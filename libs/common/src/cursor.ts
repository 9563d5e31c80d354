import { AppError } from './errors';
import { hmacSha256, safeEqual } from './crypto';

/**
 * Opaque keyset cursors: the position (a timestamp and an id) plus a MAC, so
 * a cursor the server did not issue is refused with 400 instead of being
 * trusted as a position.
 */
export function encodeCursor(key: Buffer, at: Date, id: string): string {
  const body = Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
  return `${body}.${hmacSha256(key, `cursor:${body}`).subarray(0, 16).toString('base64url')}`;
}

export function decodeCursor(key: Buffer, cursor: string): { at: Date; id: string } {
  const [body, mac] = cursor.split('.');
  if (body && mac && cursor.length < 200 && safeEqual(hmacSha256(key, `cursor:${body}`).subarray(0, 16).toString('base64url'), mac)) {
    const [ms, id] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [number, string];
    return { at: new Date(ms), id };
  }
  throw new AppError('invalid_request', 'The cursor is not valid (use nextCursor from a previous page).');
}
