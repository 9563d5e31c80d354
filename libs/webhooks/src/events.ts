import { TraceCarrier } from '@app/common';
/** Every event type LoginSign sends; `ping` only from the "send test" button. */
export const WEBHOOK_EVENT_TYPES = [
  'user_account_deleted',
  'user_connected',
  'user_consent_revoked',
  'user_blocked',
  'user_unblocked',
  'user_email_changed',
  'email_forwarding_changed',
  'email_muted_changed',
  'ping',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Every event names the application, the connection and the user's Global ID. */
export interface ConnectionEventData {
  applicationId: string;
  connectionId: string;
  globalId: string;
  [changed: string]: unknown;
}

export const WEBHOOK_QUEUE = 'webhooks';

/** A delivery job; the trace context is the request's that committed the event (absent when the sweeper queues it). */
export interface WebhookJob extends TraceCarrier {
  eventId: string;
}

/** Redis hash where each worker process writes its heartbeat (read by GET /health/worker). */
export const WORKER_HEARTBEATS_KEY = 'worker-heartbeats';
