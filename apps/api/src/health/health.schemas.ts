import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';

/** Response bodies of /health, as /openapi.json describes them. */

export class HealthStatus {
  @ApiProperty({ enum: ['ok'] })
  status: string;
}

const CHECKS: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['up', 'down'] } } },
};

/** What @nestjs/terminus answers when every check is up: the checks by name (`mysql`, `redis`). */
export class Readiness {
  @ApiProperty({ enum: ['ok'] })
  status: string;
  @ApiProperty(CHECKS)
  info: Record<string, { status: string }>;
  @ApiProperty(CHECKS)
  error: Record<string, { status: string }>;
  @ApiProperty(CHECKS)
  details: Record<string, { status: string }>;
}
