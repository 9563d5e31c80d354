import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createTransport, Transporter } from 'nodemailer';
import { APP_CONFIG, AppConfig } from '@app/config';
import { randomAlnum } from '@app/common';
import { parseAddress, relayKey, replyAlias, replyLocalPart, srsEncode } from './addresses';
import { headerValue, parseMailbox, rewriteForForward, rewriteForReply, splitMessage } from './message';
import { RELAY_QUEUE, RelayJob } from './relay.constants';
import { relayJobOptions } from './relay-intake';
import { MessageRow, RelayMessagesRepository } from './relay-messages.repository';

/** A send that must not be retried (5xx from the next server, or nothing to send to). */
class PermanentFailure extends Error {}

const BATCH = 500;

/**
 * The worker side: sends stored messages over SMTP_URL (a pooled nodemailer
 * transport), records the outcome, drops the raw message once it is
 * delivered or given up, and sweeps stored messages whose job never made it
 * into (or vanished from) the queue.
 */
@Injectable()
export class RelayDelivery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('relay-delivery');
  private readonly key: Buffer;
  private transport?: Transporter;
  private timer?: NodeJS.Timeout;
  private sweeping = false;
  private lastLostCheck = 0;

  constructor(
    private readonly messages: RelayMessagesRepository,
    @InjectQueue(RELAY_QUEUE) private readonly queue: Queue<RelayJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.key = relayKey(config.secrets.sessionSecret);
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.sweep(), this.config.outboxRelayIntervalMs);
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    this.transport?.close();
  }

  private smtp(): Transporter {
    if (!this.config.smtpUrl) throw new Error('SMTP_URL is not set: relay mail waits in the queue');
    const { dkim } = this.config.relay;
    // Everything the relay sends is From RELAY_DOMAIN: signed for it when a key is configured.
    this.transport ??= createTransport({
      url: this.config.smtpUrl,
      pool: true,
      maxConnections: this.config.relay.concurrency,
      maxMessages: Infinity,
      ...(dkim ? { dkim: { domainName: this.config.relayDomain, keySelector: dkim.selector, privateKey: dkim.privateKey } } : {}),
    });
    return this.transport;
  }

  /** One attempt. Throws to have BullMQ retry with backoff; returns when the message is settled. */
  async deliver(messageId: string, attempt: number, maxAttempts: number): Promise<string> {
    const row = await this.messages.findToDeliver(messageId);
    if (!row || row.status !== 'queued' || !row.raw) return 'gone';
    try {
      const mail = row.kind === 'forward' ? await this.forwarded(row) : await this.reply(row);
      await this.smtp().sendMail({ envelope: { from: mail.from, to: [mail.to] }, raw: mail.raw });
      await this.settle(row, 'delivered', null);
      this.logger.log(JSON.stringify({ decision: 'delivered', id: row.id, kind: row.kind, attempt }));
      return 'delivered';
    } catch (error) {
      const e = error as Error & { responseCode?: number };
      const text = `${e.responseCode ? `${e.responseCode} ` : ''}${e.message}`.slice(0, 500);
      const permanent = error instanceof PermanentFailure || (e.responseCode !== undefined && e.responseCode >= 500);
      if (permanent || attempt >= maxAttempts) {
        await this.settle(row, 'failed', text);
        this.logger.warn(JSON.stringify({ decision: 'failed', id: row.id, kind: row.kind, attempt, permanent, error: text }));
        return 'failed';
      }
      await this.messages.recordRetry(row.id, text);
      this.logger.warn(JSON.stringify({ decision: 'retry', id: row.id, kind: row.kind, attempt, error: text }));
      throw error;
    }
  }

  private async settle(row: MessageRow, status: 'delivered' | 'failed', error: string | null) {
    await this.messages.settle(row.id, row.body_id, status, error);
  }

  /** App -> user: to the user's primary address, From = the relay form of the sender. */
  private async forwarded(row: MessageRow) {
    if (!row.relay_local) throw new PermanentFailure('the connection was deleted');
    if (!row.user_email) throw new PermanentFailure('the user has no confirmed primary address');
    const message = splitMessage(row.raw!);
    const from = parseMailbox(headerValue(message, 'from'));
    // Replies go to the envelope sender, which routing checked against the
    // application's registered senders; never to From or Reply-To (anyone can write those).
    const replyTarget = row.mail_from;
    const alias = replyAlias(this.key, row.connection_id, replyTarget);
    await this.messages.saveReplyAlias(alias, row.connection_id, replyTarget);
    const raw = rewriteForForward(row.raw!, {
      from: `${replyLocalPart(alias)}@${this.config.relayDomain}`,
      to: row.rcpt_to,
      displayName: from?.name || from?.address || replyTarget,
      originalFrom: from?.address ?? row.mail_from,
      messageId: row.id,
      applicationId: row.application_id,
    });
    return { from: srsEncode(this.key, parseAddress(row.mail_from), this.config.relayDomain), to: row.user_email, raw };
  }

  /** User -> app: to the original sender, from the user's relay address; the real address removed. */
  private async reply(row: MessageRow) {
    const alias = parseAddress(row.rcpt_to)!.local.slice(2);
    const target = await this.messages.replyTarget(alias);
    if (!target) throw new PermanentFailure('the connection was deleted');
    await this.messages.touchReplyAlias(alias);
    const relayAddress = `${target.relayLocal}@${this.config.relayDomain}`;
    const raw = rewriteForReply(row.raw!, {
      from: relayAddress,
      to: target.sender,
      messageId: `${row.id}.${randomAlnum(6)}`,
      relayDomain: this.config.relayDomain,
      hide: [...target.userEmails, row.mail_from],
    });
    return { from: relayAddress, to: target.sender, raw };
  }

  /** Queues stored messages that were never queued, and re-queues those whose job was lost. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const ids = await this.messages.unqueued(BATCH);
      if (ids.length) {
        await this.queue.addBulk(ids.map((messageId) => ({ name: 'send', data: { messageId }, opts: relayJobOptions(this.config, messageId) })));
        await this.messages.markEnqueued(ids);
      }
      if (Date.now() - this.lastLostCheck > this.config.outboxLostAfterSeconds * 1000) {
        this.lastLostCheck = Date.now();
        const old = await this.messages.queuedBefore(this.config.outboxLostAfterSeconds, BATCH);
        for (const row of old) {
          if (await this.queue.getJob(row.id)) continue;
          await this.queue.add('send', { messageId: row.id }, relayJobOptions(this.config, row.id, this.config.relay.maxAttempts - row.attempts));
        }
      }
    } catch (error) {
      this.logger.warn(`relay sweep failed, will retry: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}
