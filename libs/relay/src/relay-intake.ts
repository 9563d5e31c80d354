import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig, WEBHOOK_JITTER } from '@app/config';
import { currentTraceCarrier, randomId } from '@app/common';
import { AcceptedRecipient, RELAY_QUEUE, RelayJob } from './relay.constants';
import { RelayMessagesRepository } from './relay-messages.repository';

export function relayJobOptions(config: AppConfig, messageId: string, attemptsLeft = config.relay.maxAttempts): JobsOptions {
  return {
    jobId: messageId,
    attempts: Math.max(1, attemptsLeft),
    backoff: { type: 'exponential', delay: config.relay.backoffMs, jitter: WEBHOOK_JITTER },
    removeOnComplete: true,
    removeOnFail: true,
  };
}

/**
 * Accepted mail: the body stored once, one relay_messages row per recipient, committed before the
 * relay answers 250 (nothing accepted is lost), then queued for the worker.
 * Muted and bounce recipients are recorded without the message.
 */
@Injectable()
export class RelayIntake {
  private readonly logger = new Logger('relay');

  constructor(
    private readonly messages: RelayMessagesRepository,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue<RelayJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async accept(mailFrom: string, recipients: AcceptedRecipient[], raw: Buffer, session: string): Promise<string[]> {
    const sending = recipients.some((r) => r.kind === 'forward' || r.kind === 'reply');
    const body = sending ? { id: randomId('rb'), raw } : null;
    const rows = recipients.map((r) => {
      const sends = r.kind === 'forward' || r.kind === 'reply';
      return {
        id: randomId('rm'),
        sends,
        row: {
          kind: r.kind,
          status: sends ? ('queued' as const) : ('dropped' as const),
          applicationId: r.applicationId,
          connectionId: r.connectionId,
          mailFrom: mailFrom.toLowerCase(),
          rcptTo: r.rcpt,
          sizeBytes: raw.length,
          bodyId: sends ? body!.id : null,
        },
      };
    });
    // The body once, then every recipient's row, committed before the queueing below.
    await this.messages.insertAll(
      body,
      rows.map((r) => ({ id: r.id, ...r.row })),
    );
    for (const [i, r] of rows.entries()) {
      this.logger.log(JSON.stringify({ decision: recipients[i].kind, stored: r.id, session, bytes: raw.length, rcpt: recipients[i].rcpt }));
    }
    const queued = rows.filter((r) => r.sends).map((r) => r.id);
    if (queued.length) {
      try {
        // In the SMTP message's span: the forward continues its trace.
        const trace = currentTraceCarrier();
        await this.queue.addBulk(queued.map((messageId) => ({ name: 'send', data: { messageId, ...trace }, opts: relayJobOptions(this.config, messageId) })));
      } catch (error: unknown) {
        // Stored and committed: the worker's sweep of lost jobs queues it.
        this.logger.warn(`could not queue ${queued.length} message(s) now, the sweep will: ${(error as Error).message}`);
      }
    }
    return rows.map((r) => r.id);
  }
}
