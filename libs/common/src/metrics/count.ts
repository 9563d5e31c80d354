import { logins, resultOf, tokenRequests } from './registry';

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * Wraps an async method so that each call's outcome is counted: `success`
 * when it resolves, the AppError code when it rejects. Metadata that other
 * decorators attached to the method (Nest routes, guards) is carried over.
 */
function countOutcome(count: (args: unknown[], result: string) => void): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as AsyncMethod;
    const wrapped = async function (this: unknown, ...args: unknown[]) {
      try {
        const value = await original.apply(this, args);
        count(args, resultOf());
        return value;
      } catch (error: unknown) {
        count(args, resultOf(error));
        throw error;
      }
    };
    for (const key of Reflect.getMetadataKeys(original)) Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped;
    return descriptor;
  };
}

/** Counts user sign-ins (`loginsign_logins_total{method,result}`). */
export function CountsLogins(method: 'password' | 'passkey'): MethodDecorator {
  return countOutcome((_args, result) => logins.inc({ method, result }));
}

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']);

/** The grant_type label: a known grant type, `other`, or `none` when absent. */
export function grantTypeLabel(body: unknown): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>).grant_type : undefined;
  if (typeof value !== 'string' || value === '') return 'none';
  return GRANT_TYPES.has(value) ? value : 'other';
}

/** Counts token endpoint requests (`loginsign_token_requests_total{grant_type,result}`); the first argument is the request. */
export function CountsTokenRequests(): MethodDecorator {
  return countOutcome((args, result) => tokenRequests.inc({ grant_type: grantTypeLabel((args[0] as { body?: unknown } | undefined)?.body), result }));
}
