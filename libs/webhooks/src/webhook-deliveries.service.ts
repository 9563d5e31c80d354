import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, decodeCursor, encodeCursor, isoUtc, notFound, retryOnDeadlock } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { AttemptRecord, AttemptRow, DeliveryRow, WebhookEventsRepository } from './webhook-events.repository';
import { WebhookOutbox } from './webhook-outbox.service';

export interface DeliveryView {
  id: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string | null;
  deliveredAt: string | null;
}

/** One delivery attempt as the API and the portal show it. */
export interface AttemptView extends Omit<AttemptRecord, 'eventId'> {
  at: string | null;
}

const toView = (r: DeliveryRow): DeliveryView => ({
  id: r.id,
  type: r.type,
  status: r.status,
  attempts: Number(r.attempts),
  lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
  lastError: r.last_error,
  createdAt: isoUtc(r.created_at),
  deliveredAt: isoUtc(r.delivered_at),
});

/**
 * The developer's view of webhook deliveries. Callers pass an application id
 * they have already checked belongs to the developer.
 */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly events: WebhookEventsRepository,
    private readonly applications: ApplicationsService,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private cursorKey() {
    return this.config.secrets.sessionSecret;
  }

  async endpoint(applicationId: string) {
    const row = await this.applications.webhookEndpoint(applicationId);
    if (!row) throw notFound('The application');
    return { webhookUrl: row.webhookUrl, enabled: !!row.webhookUrl && !row.disabledAt, disabledAt: isoUtc(row.disabledAt) };
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(applicationId: string, limit: number, cursor?: string): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(this.cursorKey(), cursor) : null;
    const rows = await this.events.page(applicationId, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { deliveries: page.map(toView), nextCursor: rows.length > limit ? encodeCursor(this.cursorKey(), last.created_at, last.id) : null };
  }

  private async view(applicationId: string, eventId: string) {
    const row = await this.events.find(applicationId, eventId);
    if (!row) throw notFound('The delivery');
    return row;
  }

  /** One delivery with its payload and every attempt. */
  async get(applicationId: string, eventId: string) {
    const row = await this.view(applicationId, eventId);
    const attempts = await this.events.attempts(eventId);
    return {
      ...toView(row),
      payload: JSON.parse(row.payload) as unknown,
      attemptLog: attempts.map((a: AttemptRow): AttemptView => ({
        attempt: Number(a.attempt),
        url: a.url,
        statusCode: a.status_code === null ? null : Number(a.status_code),
        durationMs: Number(a.duration_ms),
        error: a.error,
        responseExcerpt: a.response_excerpt,
        at: isoUtc(a.created_at),
      })),
    };
  }

  /** Sends the same event (same webhook-id) again, with a fresh retry budget. */
  async redeliver(applicationId: string, eventId: string): Promise<DeliveryView> {
    await this.view(applicationId, eventId);
    const endpoint = await this.endpoint(applicationId);
    if (!endpoint.webhookUrl) throw new AppError('invalid_request', 'The application has no webhook URL.');
    // Concurrent pings and redeliveries of one application can deadlock: each step is idempotent and retried.
    if (!(await retryOnDeadlock(() => this.events.resetForRedelivery(applicationId, eventId)))) throw notFound('The delivery');
    // Re-enabling on explicit request: the developer says the endpoint is back.
    await retryOnDeadlock(() => this.applications.setWebhookDisabled(applicationId, false));
    await this.outbox.dispatch([eventId]);
    return toView(await this.view(applicationId, eventId));
  }

  /** A `ping` event to check the endpoint. */
  async ping(applicationId: string): Promise<{ id: string }> {
    const endpoint = await this.endpoint(applicationId);
    if (!endpoint.webhookUrl) throw new AppError('invalid_request', 'Set a webhook URL first.');
    await retryOnDeadlock(() => this.applications.setWebhookDisabled(applicationId, false));
    const id = await retryOnDeadlock(() => this.outbox.emit('ping', { applicationId }));
    return { id: id! };
  }
}
