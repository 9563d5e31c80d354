import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, metricsAuthorized, registry } from '@app/common';
import { ApiEndpoint } from './shared/openapi';

/** Prometheus text format about this API process (docs/operations.md). */
@Controller()
export class MetricsController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @ApiEndpoint({ summary: 'Prometheus metrics of this process', auth: 'metrics', response: { type: 'string' }, produces: registry.contentType })
  @Get('metrics')
  async metrics(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!metricsAuthorized(request.headers.authorization, this.config.metrics.token)) {
      const error = new AppError('invalid_token', 'This endpoint needs Authorization: Bearer with the metrics token.');
      error.headers['www-authenticate'] = 'Bearer';
      throw error;
    }
    const text = await registry.metrics();
    await reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text);
  }
}
