import { INestApplication, Injectable } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { cookieName } from '../shared/cookies';
import { isJsonPath } from '../shared/error.filter';
import { BODY_SCHEMAS, ERROR_SCHEMA, ERROR_SCHEMA_NAME, errorResponseDescription, errorResponseSchema } from '../shared/openapi';

/** The document served at /openapi.json, built once at startup (bootstrap.ts). */
@Injectable()
export class OpenApiDocument {
  document: OpenAPIObject | null = null;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Tags by path: who the endpoint is for. */
function tagFor(path: string): string {
  if (path.startsWith('/api/developer')) return 'Developer Portal';
  if (path.startsWith('/api/account')) return 'Account';
  if (path.startsWith('/health') || path.startsWith('/metrics')) return 'Operations';
  return 'OAuth and OpenID Connect';
}

function isRef<T extends object>(value: T | ReferenceObject): value is ReferenceObject {
  return '$ref' in value;
}

/**
 * Success answers carry exactly their documented fields: every object schema
 * reached from a success response that lists properties and says nothing
 * about others gets `additionalProperties: false`.
 */
function closeSuccessSchemas(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const seen = new Set<SchemaObject>();
  const close = (schema: SchemaObject | ReferenceObject | undefined): void => {
    if (!schema) return;
    if (isRef(schema)) return close(schemas[schema.$ref.replace('#/components/schemas/', '')]);
    if (seen.has(schema)) return;
    seen.add(schema);
    if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
    Object.values(schema.properties ?? {}).forEach(close);
    if (schema.items) close(schema.items);
    for (const part of [...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) close(part);
  };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        if (!/^2/.test(status) || !response || isRef(response)) continue;
        for (const media of Object.values(response.content ?? {})) close(media.schema);
      }
    }
  }
}

/** A path parameter names a resource that may not exist (or not be the caller's): 404 not_found. */
function addNotFound(path: string, operation: OperationObject): void {
  if (!/\{[^}]+\}/.test(path) || operation.responses['404']) return;
  operation.responses['404'] = {
    description: errorResponseDescription(['not_found']),
    content: { 'application/json': { schema: errorResponseSchema(['not_found']) } },
  };
}

/**
 * The OpenAPI 3 document of every JSON endpoint, generated from the
 * controllers' @ApiEndpoint decorators (shared/openapi.ts) by
 * @nestjs/swagger. HTML pages (what isJsonPath calls pages) are left out.
 */
export function createOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const options = new DocumentBuilder()
    .setTitle('LoginSign API')
    .setDescription(
      'Sign in with LoginSign: OAuth 2.0 / OpenID Connect endpoints, the Developer Portal JSON API, the account JSON API and operations endpoints. ' +
        'Every error is JSON `{error, error_description}`; timestamps are ISO 8601 UTC strings.',
    )
    .setVersion('1')
    .addSecurity('bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /oauth/token.' })
    .addSecurity('userSession', { type: 'apiKey', in: 'cookie', name: cookieName(config, 'user'), description: "The end user's session cookie (POST /api/account/login)." })
    .addSecurity('developerSession', {
      type: 'apiKey',
      in: 'cookie',
      name: cookieName(config, 'developer'),
      description: "The developer's session cookie (POST /api/developer/login). Writes must send application/json and no foreign Origin.",
    })
    .addSecurity('developerApiKey', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'lsk_...',
      description: 'A developer API key (created on the portal or POST /api/developer/api-keys); accepted on /api/developer/applications/** only.',
    })
    .addSecurity('clientBasic', {
      type: 'http',
      scheme: 'basic',
      description: 'client_secret_basic: client_id and client_secret (each form-urlencoded). Alternatively client_secret_post: both in the form body, never both methods.',
    })
    .addSecurity('metricsToken', { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; needed only when it is set.' })
    .build();
  const document = SwaggerModule.createDocument(app, options, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });

  for (const path of Object.keys(document.paths)) if (!isJsonPath(path)) delete document.paths[path];
  document.components = document.components ?? {};
  const schemas = (document.components.schemas = document.components.schemas ?? {});
  schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA;
  for (const [name, { schema }] of BODY_SCHEMAS) schemas[name] ??= schema;

  const tags = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      addNotFound(path, operation);
      operation.tags = [tagFor(path)];
      tags.add(tagFor(path));
    }
  }
  document.tags = [...tags].sort().map((name) => ({ name }));
  closeSuccessSchemas(document);
  return document;
}
