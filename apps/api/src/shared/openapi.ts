import { applyDecorators, RequestMethod, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiResponse, ApiSecurity, getSchemaPath } from '@nestjs/swagger';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { ERROR_STATUS, ErrorCode } from '@app/common';

export type { SchemaObject };

/** Who may call an endpoint; each adds its security requirement and its 401 (and 403) answers. */
export type EndpointAuth = 'bearer' | 'user' | 'developer' | 'developerOrKey' | 'client' | 'metrics';

export interface EndpointDoc {
  summary: string;
  description?: string;
  /** Default: public. */
  auth?: EndpointAuth;
  /** A JSON body validated by this DTO: its schema is read from the DTO's class-validator rules (adds 400, 413, 415). */
  body?: Type<unknown>;
  /** An application/x-www-form-urlencoded body with these fields (adds 400, 413). */
  form?: SchemaObject;
  /** Query parameters (all optional). */
  query?: Record<string, SchemaObject>;
  /**
   * The success answer: a class with @ApiProperty fields, a schema, `null`
   * for an empty body, or `false` when the endpoint never succeeds.
   */
  response: Type<unknown> | SchemaObject | null | false;
  /** The success status; default: the handler's @HttpCode, else 201 for POST and 200 otherwise. */
  status?: number;
  /** The success answer's media type when `response` is a schema (default application/json). */
  produces?: string;
  /** Further error answers, by the contract's error code. */
  errors?: ErrorCode[];
}

/** The one error shape of every JSON endpoint. */
export const ERROR_SCHEMA_NAME = 'Error';
export const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every error of a JSON endpoint.',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', enum: Object.keys(ERROR_STATUS), description: 'The error code (its HTTP status is fixed per code).' },
    error_description: { type: 'string', description: 'One sentence for a human.' },
  },
  additionalProperties: false,
};

/** The answer of one status: the shared error schema, its `error` limited to `codes`. */
export function errorResponseSchema(codes: string[]): SchemaObject {
  return { allOf: [{ $ref: getSchemaPath(ERROR_SCHEMA_NAME) }, { type: 'object', properties: { error: { type: 'string', enum: codes } } }] };
}

export function errorResponseDescription(codes: string[]): string {
  return codes.join(', ');
}

/** Codes whose status at a resource endpoint (auth 'bearer') is not their usual one. */
const RESOURCE_STATUS: Partial<Record<ErrorCode, number>> = { invalid_dpop_proof: 401 };

const WRITES = new Set<RequestMethod>([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE]);

const AUTH: Record<EndpointAuth, { security: Record<string, string[]>[]; errors: (method: RequestMethod) => ErrorCode[] }> = {
  // Bearer or DPoP (RFC 9449): a bad proof is invalid_dpop_proof, 401 here (RESOURCE_STATUS).
  bearer: { security: [{ bearer: [] }], errors: () => ['invalid_token', 'invalid_dpop_proof'] },
  // Cookie writes also follow the CSRF rule (403 forbidden).
  user: { security: [{ userSession: [] }], errors: (m) => (WRITES.has(m) ? ['unauthorized', 'forbidden'] : ['unauthorized']) },
  developer: { security: [{ developerSession: [] }], errors: (m) => (WRITES.has(m) ? ['unauthorized', 'forbidden'] : ['unauthorized']) },
  // The applications API also takes a developer API key (no CSRF rule then; a bad key is invalid_token, too many requests rate_limited).
  developerOrKey: {
    security: [{ developerSession: [] }, { developerApiKey: [] }],
    errors: (m) => (WRITES.has(m) ? ['unauthorized', 'forbidden', 'invalid_token', 'rate_limited'] : ['unauthorized', 'invalid_token', 'rate_limited']),
  },
  // client_secret_basic, or client_secret_post (client_id and client_secret in the form: no header).
  client: { security: [{ clientBasic: [] }, {}], errors: () => ['invalid_client', 'invalid_request'] },
  // Only when METRICS_TOKEN is set.
  metrics: { security: [{ metricsToken: [] }, {}], errors: () => ['invalid_token'] },
};

/** Request bodies described from their DTOs, added to the document's components by name. */
export const BODY_SCHEMAS = new Map<string, { dto: Type<unknown>; schema: SchemaObject }>();

type Conditional = (object: Record<string, unknown>, value: unknown) => boolean;

/** Whether validation runs for `value` (an IsOptional / ValidateIf rule skips the other rules when it says false). */
function validated(rules: ValidationMetadata[], property: string, value: unknown): boolean {
  return rules.filter((r) => r.type === ValidationTypes.CONDITIONAL_VALIDATION).every((r) => (r.constraints[0] as Conditional)({ [property]: value }, value));
}

/** One property's schema from its class-validator rules (rules this does not know add nothing). */
function propertySchema(rules: ValidationMetadata[]): SchemaObject {
  const own: SchemaObject = {};
  const items: SchemaObject = {};
  for (const rule of rules) {
    const s = rule.each ? items : own;
    const [a, b] = (rule.constraints ?? []) as unknown[];
    switch (rule.name) {
      case 'isString':
        s.type = 'string';
        break;
      case 'isBoolean':
        s.type = 'boolean';
        break;
      case 'isInt':
        s.type = 'integer';
        break;
      case 'isNumber':
        s.type = 'number';
        break;
      case 'isArray':
        own.type = 'array';
        break;
      case 'isEmail':
        s.format = 'email';
        break;
      case 'isUrl':
        s.format = 'uri';
        break;
      case 'maxLength':
        s.maxLength = a as number;
        break;
      case 'minLength':
        s.minLength = a as number;
        break;
      case 'isLength':
        s.minLength = a as number;
        if (typeof b === 'number') s.maxLength = b;
        break;
      case 'isNotEmpty':
        s.minLength = Math.max(s.minLength ?? 0, 1);
        break;
      case 'arrayMinSize':
        own.minItems = a as number;
        break;
      case 'arrayMaxSize':
        own.maxItems = a as number;
        break;
      case 'isIn':
        s.enum = a as unknown[];
        break;
      case 'min':
        s.minimum = a as number;
        break;
      case 'max':
        s.maximum = a as number;
        break;
      case 'matches':
        s.pattern = a instanceof RegExp ? a.source : String(a);
        break;
    }
  }
  if (own.type === 'array') own.items = items;
  return own;
}

/** The JSON schema of a DTO, from the same class-validator rules the ValidationPipe applies. */
export function dtoSchema(dto: Type<unknown>): SchemaObject {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const rule of rules) byProperty.set(rule.propertyName, [...(byProperty.get(rule.propertyName) ?? []), rule]);
  const properties: Record<string, SchemaObject> = {};
  const required: string[] = [];
  for (const [property, own] of byProperty) {
    const schema = propertySchema(own);
    if (validated(own, property, undefined)) required.push(property);
    if (!validated(own, property, null)) schema.nullable = true;
    properties[property] = schema;
  }
  // Unknown fields are dropped by the ValidationPipe (whitelist), not refused.
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

function bodySchemaRef(dto: Type<unknown>): ReferenceObject {
  const known = BODY_SCHEMAS.get(dto.name);
  if (known && known.dto !== dto) throw new Error(`Two request DTOs are named ${dto.name}: rename one.`);
  if (!known) BODY_SCHEMAS.set(dto.name, { dto, schema: dtoSchema(dto) });
  return { $ref: getSchemaPath(dto.name) };
}

function successSchema(response: Type<unknown> | SchemaObject): { type: Type<unknown> } | { schema: SchemaObject } {
  return typeof response === 'function' ? { type: response } : { schema: response };
}

/**
 * Documents a JSON endpoint in /openapi.json: summary, auth, body, success
 * answer and error answers (with the shared `{error, error_description}`
 * schema). Put it first, above the route decorator (`@Get`, `@Post`...) and
 * `@HttpCode`, whose method and status it reads. A path parameter adds
 * 404 `not_found` (see docs/openapi-document.ts).
 */
export function ApiEndpoint(doc: EndpointDoc): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    if (method === undefined) throw new Error(`@ApiEndpoint on ${target.constructor.name}.${String(key)} must sit above the route decorator (@Get, @Post...).`);
    const status = doc.status ?? (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === RequestMethod.POST ? 201 : 200);

    const errors = new Set<ErrorCode>(doc.errors ?? []);
    if (doc.auth) for (const code of AUTH[doc.auth].errors(method)) errors.add(code);
    if (doc.body) ['invalid_request', 'payload_too_large', 'unsupported_media_type'].forEach((c) => errors.add(c as ErrorCode));
    if (doc.form) ['invalid_request', 'payload_too_large'].forEach((c) => errors.add(c as ErrorCode));
    const byStatus = new Map<number, string[]>();
    for (const code of errors) {
      const status = (doc.auth === 'bearer' ? RESOURCE_STATUS[code] : undefined) ?? ERROR_STATUS[code];
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }

    const decorators: MethodDecorator[] = [ApiOperation({ summary: doc.summary, description: doc.description })];
    if (doc.auth) decorators.push(...AUTH[doc.auth].security.map((requirement) => ApiSecurity(requirement)));
    if (doc.body) decorators.push(ApiConsumes('application/json'), ApiBody({ schema: bodySchemaRef(doc.body) }));
    if (doc.form) decorators.push(ApiConsumes('application/x-www-form-urlencoded'), ApiBody({ schema: doc.form }));
    for (const [name, schema] of Object.entries(doc.query ?? {})) {
      decorators.push(ApiQuery({ name, required: false, schema, description: schema.description }));
    }
    if (doc.response === null) decorators.push(ApiResponse({ status, description: 'Success, no body.' }));
    else if (doc.response !== false) {
      if (doc.produces && typeof doc.response !== 'function') {
        decorators.push(ApiResponse({ status, description: 'Success.', content: { [doc.produces]: { schema: doc.response } } }));
      } else decorators.push(ApiResponse({ status, description: 'Success.', ...successSchema(doc.response) }));
    }
    for (const [code, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      decorators.push(ApiResponse({ status: code, description: errorResponseDescription(codes), schema: errorResponseSchema(codes) }));
    }
    decorators.push(ApiResponse({ status: 'default', description: 'server_error (500), temporarily_unavailable (503)', schema: { $ref: getSchemaPath(ERROR_SCHEMA_NAME) } }));
    applyDecorators(...decorators)(target, key, descriptor);
  };
}
