import { UnrecoverableError } from 'bullmq';
import { webhookDeliveries } from '@app/common';
import { DeliveryOutcome } from '@app/webhooks';

/**
 * Counts each webhook delivery attempt of the wrapped processor method by
 * result: `success`, `retry` (thrown: BullMQ tries again), `failed` (for
 * good) or `skipped` (the event was no longer pending).
 */
export function CountsWebhookDeliveries(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => Promise<DeliveryOutcome>;
    descriptor.value = async function (this: unknown, ...args: unknown[]) {
      try {
        const outcome = await original.apply(this, args);
        webhookDeliveries.inc({ result: outcome === 'delivered' ? 'success' : outcome });
        return outcome;
      } catch (error: unknown) {
        webhookDeliveries.inc({ result: error instanceof UnrecoverableError ? 'failed' : 'retry' });
        throw error;
      }
    };
    return descriptor;
  };
}
