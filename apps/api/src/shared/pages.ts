import { FastifyReply } from 'fastify';
import { AppError } from '@app/common';
import { createValidationPipe } from './body';

export type Form = Record<string, unknown>;

/** A form field as one string (a repeated field counts as missing). */
export function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

/** "Invalid field: password must be..." reads better on a form as "Password must be...". */
export function formMessage(error: AppError): string {
  const text = error.description.replace(/^Invalid field: /, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Pages carry CSRF tokens, secrets and personal data: never cached. */
export function sendPage(reply: FastifyReply, status: number, body: string) {
  reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** Every POST ends with a 303 to a page the browser GETs. */
export function seeOther(reply: FastifyReply, location: string) {
  reply.status(303).header('cache-control', 'no-store').header('location', location).send();
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
