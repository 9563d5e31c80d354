import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { createTransport, Transporter } from 'nodemailer';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, randomId, REDIS } from '@app/common';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/** A mail kept for the development mailbox page. */
export interface DevMail extends OutgoingMail {
  id: string;
  sentAt: string;
}

const DEV_MAILBOX_KEY = 'dev-mailbox';
/** How many mails and for how long the development mailbox keeps them. */
export const DEV_MAILBOX_LIMIT = 100;
export const DEV_MAILBOX_TTL_SECONDS = 24 * 3600;

/**
 * Mail LoginSign sends itself (verification links). With `SMTP_URL` it goes
 * out through nodemailer; without it (development and tests) it is written
 * to the log and kept in Redis for the `/dev/mailbox` page. In production
 * without SMTP_URL nothing can be sent: the caller gets 503.
 */
@Injectable()
export class MailerService {
  private readonly logger = new Logger('mail');
  private transport?: Transporter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The sender of LoginSign's own mail. */
  get from(): string {
    return `LoginSign <no-reply@${this.config.relayDomain}>`;
  }

  /** True where /dev/mailbox exists (never in production). */
  get devMailboxEnabled(): boolean {
    return !this.config.isProduction;
  }

  /** True when mail goes to the dev mailbox instead of SMTP. */
  get usesDevMailbox(): boolean {
    return this.devMailboxEnabled && !this.config.smtpUrl;
  }

  async send(mail: OutgoingMail): Promise<void> {
    if (this.config.smtpUrl) {
      this.transport ??= createTransport(this.config.smtpUrl);
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
      return;
    }
    if (!this.devMailboxEnabled) {
      this.logger.error(`SMTP_URL is not configured: mail to ${mail.to} ("${mail.subject}") was not sent`);
      throw new AppError('temporarily_unavailable', 'Email delivery is not configured. Try again later.');
    }
    const stored: DevMail = { ...mail, id: randomId('mail'), sentAt: new Date().toISOString() };
    this.logger.log(`(no SMTP_URL) mail to ${mail.to}: ${mail.subject}\n${mail.text}`);
    await this.redis
      .multi()
      .lpush(DEV_MAILBOX_KEY, JSON.stringify(stored))
      .ltrim(DEV_MAILBOX_KEY, 0, DEV_MAILBOX_LIMIT - 1)
      .expire(DEV_MAILBOX_KEY, DEV_MAILBOX_TTL_SECONDS)
      .exec();
  }

  /** The development mailbox, newest first. */
  async devMailbox(): Promise<DevMail[]> {
    const raw = await this.redis.lrange(DEV_MAILBOX_KEY, 0, DEV_MAILBOX_LIMIT - 1);
    return raw.map((r) => JSON.parse(r) as DevMail);
  }
}
