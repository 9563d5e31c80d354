import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, WEBHOOK_JITTER } from '@app/config';
import { randomId } from '@app/common';
import { AcceptedRecipient, RELAY_QUEUE, RelayJob } from './relay.constants';

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
 * Accepted mail: one relay_messages row per recipient, committed before the
 * relay answers 250 (nothing accepted is lost), then queued for the worker.
 * Muted and bounce recipients are recorded without the message.
 */
@Injectable()
export class RelayIntake {
  private readonly logger = new Logger('relay');

  constructor(
    private readonly db: DataSource,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue<RelayJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async accept(mailFrom: string, recipients: AcceptedRecipient[], raw: Buffer, session: string): Promise<string[]> {
    const rows = recipients.map((r) => {
      const sends = r.kind === 'forward' || r.kind === 'reply';
      return { id: randomId('rm'), sends, values: [r.kind, sends ? 'queued' : 'dropped', r.applicationId, r.connectionId, mailFrom.toLowerCase(), r.rcpt, raw.length, sends ? raw : null] };
    });
    // enqueued_at is set in the same write (one commit per message): should
    // the queueing below fail, the worker's sweep finds the row without a job
    // after OUTBOX_LOST_AFTER_SECONDS and queues it.
    const placeholders = rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ');
    await this.db.query(
      `INSERT INTO relay_messages (id, kind, status, application_id, connection_id, mail_from, rcpt_to, size_bytes, raw, enqueued_at) VALUES ${placeholders}`,
      rows.flatMap((r) => [r.id, ...r.values]),
    );
    for (const [i, r] of rows.entries()) {
      this.logger.log(JSON.stringify({ decision: recipients[i].kind, stored: r.id, session, bytes: raw.length, rcpt: recipients[i].rcpt }));
    }
    const queued = rows.filter((r) => r.sends).map((r) => r.id);
    if (queued.length) {
      try {
        await this.queue.addBulk(queued.map((messageId) => ({ name: 'send', data: { messageId }, opts: relayJobOptions(this.config, messageId) })));
      } catch (error) {
        // Stored and committed: the worker's sweep of lost jobs queues it.
        this.logger.warn(`could not queue ${queued.length} message(s) now, the sweep will: ${(error as Error).message}`);
      }
    }
    return rows.map((r) => r.id);
  }
}
