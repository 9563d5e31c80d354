import { FastifyReply } from 'fastify';
import { AppError, ErrorCode } from '@app/common';
import { createValidationPipe } from './body';

export type Form = Record<string, unknown>;

/** A form field as one string (a repeated field counts as missing). */
export function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

/** How a form labels its fields: `name` -> "Application name"; `redirectUris[]` labels `redirectUris[0]` as "Redirect URI 1". */
export type FieldLabels = Readonly<Record<string, string>>;

function fieldLabel(field: string, labels: FieldLabels): string {
  if (Object.hasOwn(labels, field)) return labels[field];
  const item = /^(\w+)\[(\d+)\]$/.exec(field);
  const list = item ? `${item[1]}[]` : '';
  return item && Object.hasOwn(labels, list) ? `${labels[list]} ${Number(item[2]) + 1}` : field;
}

/**
 * The one mapping from an input error to the sentence a form shows: the
 * field in the form's words, then the problem, as a sentence.
 * "Invalid field: redirectUris[0] must use https" -> "Redirect URI 1 must use https".
 * The field is `AppError.field`, else the first word of the description.
 */
export function formMessage(error: AppError, labels: FieldLabels = {}): string {
  let text = error.description.replace(/^Invalid field: /, '');
  const field = error.field ?? /^[A-Za-z]\w*(?:\[\d+\])?(?= )/.exec(text)?.[0];
  if (field && text.includes(field)) text = text.replace(field, fieldLabel(field, labels));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * An error a form shows next to its fields when its code is one of `codes`
 * (with its headers, e.g. Retry-After); anything else goes on to the error page.
 */
export function formError(error: unknown, reply: FastifyReply, codes: readonly ErrorCode[]): AppError {
  if (!(error instanceof AppError) || !codes.includes(error.code)) throw error;
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return error;
}

/**
 * A page as the handler's return value (the handler takes `@Res({ passthrough: true })`).
 * Pages carry CSRF tokens, secrets and personal data: never cached.
 */
export function renderPage(reply: FastifyReply, status: number, body: string): string {
  reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8');
  return body;
}

/** Every POST ends with a 303 to a page the browser GETs (the handler returns nothing more). */
export function seeOther(reply: FastifyReply, location: string): void {
  reply.status(303).header('cache-control', 'no-store').header('location', location);
}

/** Form input checked by the same DTO class (and the same global pipe settings) as the JSON API. */
const pipe = createValidationPipe();
export async function validated<T extends object>(metatype: new () => T, value: Record<string, unknown>): Promise<T> {
  return (await pipe.transform(value, { type: 'body', metatype })) as T;
}

/**
 * The confirmation for `?done=key`: fixed text from `notices`, never text
 * taken from the request. Only the map's own keys count (`constructor` or
 * `__proto__` are not notices).
 */
export function doneNotice(notices: Readonly<Record<string, string>>, key: unknown): string | undefined {
  return typeof key === 'string' && Object.hasOwn(notices, key) ? notices[key] : undefined;
}
