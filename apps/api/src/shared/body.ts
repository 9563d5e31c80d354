import { createParamDecorator, ExecutionContext, ValidationError, ValidationPipe } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError } from '@app/common';
import { isFormRequest, isJsonRequest } from './csrf-rules';

function objectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('invalid_request', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** A JSON object body, validated against the parameter's DTO class by the global pipe. */
export const JsonBody = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  if (!isJsonRequest(request)) throw new AppError('unsupported_media_type', 'Send the request body as application/json.');
  return objectBody(request);
});

/** An application/x-www-form-urlencoded body (HTML forms). */
export const FormBody = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  if (!isFormRequest(request)) throw new AppError('unsupported_media_type', 'Send the form as application/x-www-form-urlencoded.');
  return objectBody(request);
});

/** Each problem with the field it is about (a property path such as `redirectUris[0]`). */
function describe(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => ({ field, message: m.replace(e.property, field) }));
    return [...own, ...describe(e.children ?? [], field)];
  });
}

/** class-validator on every body: unknown fields are stripped, the first problem names the field. */
export function createValidationPipe() {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    validateCustomDecorators: true,
    forbidUnknownValues: false,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const first = describe(errors)[0];
      if (!first) return new AppError('invalid_request', 'Invalid field: unknown problem.');
      return new AppError('invalid_request', `Invalid field: ${first.message}.`).withField(first.field);
    },
  });
}
