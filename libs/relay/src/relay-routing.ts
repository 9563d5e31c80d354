import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/common';
import { Address, parseAddress, parseReplyLocal, RELAY_LOCAL, relayKey, senderRegistered, srsDecode } from './addresses';
import { AcceptedRecipient, SmtpRefusal } from './relay.constants';
import { RelayMessagesRepository } from './relay-messages.repository';

/** Unknown-recipient probes: 20 within 10 minutes from one IP shut it out for 15 minutes. */
const PROBE_LIMIT = 20;
const PROBE_WINDOW_S = 600;
const PROBE_BLOCK_S = 900;

const refuse = (code: number, text: string, reason: string) => new SmtpRefusal(code, text, reason);

const list = (json: string | null): string[] => (json ? (JSON.parse(json) as string[]) : []);

/**
 * The relay's decisions (MAIL FROM and RCPT TO). One indexed query per
 * recipient; rate limits are fixed one-minute windows in Redis, shared by
 * every relay process. Every decision is logged, never a message body.
 */
@Injectable()
export class RelayRouting {
  private readonly logger = new Logger('relay');
  private readonly key: Buffer;

  constructor(
    private readonly messages: RelayMessagesRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.key = relayKey(config.secrets.sessionSecret);
  }

  /** MAIL FROM: syntax and the per-sender rate. An empty sender (a bounce) is allowed here. */
  async checkSender(mailFrom: string, session: string): Promise<void> {
    if (!mailFrom) return;
    const sender = parseAddress(mailFrom);
    if (!sender) throw this.log(refuse(553, '5.1.7 Bad sender address syntax', 'bad sender'), { session, from: mailFrom });
    if (!(await this.within(`sender:${sender.address}`, this.config.relay.ratePerSender))) {
      throw this.log(refuse(451, '4.7.1 Too many messages from this sender, try again later', 'sender rate'), { session, from: sender.address });
    }
  }

  /** RCPT TO: accepted (with what to do) or an SmtpRefusal. */
  async route(mailFrom: string, rcptTo: string, session: string): Promise<AcceptedRecipient> {
    const sender = parseAddress(mailFrom);
    const rcpt = parseAddress(rcptTo);
    const ctx = { session, from: sender?.address ?? '<>', rcpt: rcpt?.address ?? rcptTo };
    if (!rcpt || rcpt.domain !== this.config.relayDomain) throw this.log(refuse(550, '5.7.1 Relaying denied', 'foreign domain'), ctx);

    let accepted: AcceptedRecipient;
    if (RELAY_LOCAL.test(rcpt.local)) accepted = await this.routeRelayAddress(sender, rcpt, ctx);
    else if (parseReplyLocal(rcpt.local)) accepted = await this.routeReply(sender, rcpt, parseReplyLocal(rcpt.local)!, ctx);
    else if (srsDecode(this.key, rcpt.local)) {
      // A bounce of forwarded mail: recorded and dropped (never passed on: it names the user's mailbox).
      if (sender) throw this.log(refuse(550, '5.7.1 Only delivery status notifications are accepted here', 'srs not a bounce'), ctx);
      accepted = { kind: 'bounce', rcpt: rcpt.address, applicationId: null, connectionId: null };
    } else throw this.log(refuse(550, '5.1.1 No such address', 'unknown address'), ctx);

    this.logger.log(JSON.stringify({ decision: accepted.kind, ...ctx, applicationId: accepted.applicationId, connectionId: accepted.connectionId }));
    return accepted;
  }

  private async routeRelayAddress(sender: Address | null, rcpt: Address, ctx: Record<string, string>): Promise<AcceptedRecipient> {
    const row = await this.messages.route(rcpt.local);
    if (!row) throw this.log(refuse(550, '5.1.1 No such address', 'unknown address'), ctx);
    if (!row.connection_id) throw this.log(refuse(550, '5.1.1 This address is no longer in use', 'deleted connection'), ctx);
    const app = { ...ctx, applicationId: row.application_id!, connectionId: row.connection_id };
    if (!senderRegistered(sender, list(row.sender_domains), list(row.sender_addresses))) {
      throw this.log(refuse(550, '5.7.1 Sender not registered for this application', 'sender not registered'), app);
    }
    if (row.blocked) throw this.log(refuse(550, '5.7.1 Recipient blocked by the application', 'blocked'), app);
    if (!row.is_forwarding) throw this.log(refuse(550, '5.7.1 The recipient has turned off email forwarding', 'forwarding off'), app);
    // Only confirmed addresses receive forwarded mail: the sender may try again once it is.
    if (!Number(row.primary_confirmed)) throw this.log(refuse(450, '4.2.1 Mailbox not available yet, try again later', 'primary address unconfirmed'), app);
    if (!(await this.within(`app:${row.application_id}`, this.config.relay.ratePerApplication))) {
      throw this.log(refuse(451, '4.7.1 Too many messages from this application, try again later', 'application rate'), app);
    }
    return {
      kind: row.email_muted ? 'muted' : 'forward',
      rcpt: rcpt.address,
      applicationId: row.application_id,
      connectionId: row.connection_id,
      senderDomains: list(row.sender_domains),
      senderAddresses: list(row.sender_addresses),
    };
  }

  private async routeReply(sender: Address | null, rcpt: Address, alias: string, ctx: Record<string, string>): Promise<AcceptedRecipient> {
    const row = await this.messages.replyRoute(alias, sender?.address ?? '');
    if (!row) throw this.log(refuse(550, '5.1.1 No such address', 'unknown reply alias'), ctx);
    const app = { ...ctx, applicationId: row.application_id, connectionId: row.connection_id };
    // Only the user may reply through their alias (it sends as their relay address).
    if (!Number(row.sender_ok)) throw this.log(refuse(550, '5.7.1 Sender not allowed to reply through this address', 'reply from stranger'), app);
    if (row.blocked) throw this.log(refuse(550, '5.7.1 Blocked by the application', 'blocked'), app);
    // Reply volume per user (every alias of every connection together): a user cannot be turned into a mass mailer.
    if (!(await this.within(`replies:${row.user_id}`, this.config.relay.repliesPerUserPerHour, 3600))) {
      throw this.log(refuse(451, '4.7.1 Too many replies from this user, try again later', 'reply rate'), app);
    }
    if (!(await this.within(`app:${row.application_id}`, this.config.relay.ratePerApplication))) {
      throw this.log(refuse(451, '4.7.1 Too many messages, try again later', 'application rate'), app);
    }
    return { kind: 'reply', rcpt: rcpt.address, applicationId: row.application_id, connectionId: row.connection_id };
  }

  /** Whether some application registered this sender (its address, or its domain). */
  async registeredAnywhere(mailFrom: string): Promise<boolean> {
    const sender = parseAddress(mailFrom);
    return sender ? this.messages.registeredAnywhere(sender.address, sender.domain) : false;
  }

  /** Whether this client IP is shut out for probing unknown relay addresses. */
  async probeBlocked(ip: string): Promise<boolean> {
    return (await this.redis.exists(`relay:probe-block:${ip}`)) === 1;
  }

  /**
   * One RCPT to an unknown relay address from `ip`: after PROBE_LIMIT within
   * PROBE_WINDOW_S, the IP is shut out for PROBE_BLOCK_S.
   */
  async countProbe(ip: string): Promise<void> {
    const key = `relay:probe:${ip}`;
    const count = await this.redis.incr(key);
    if (count === 1) await this.redis.expire(key, PROBE_WINDOW_S);
    if (count > PROBE_LIMIT) await this.redis.set(`relay:probe-block:${ip}`, '1', 'EX', PROBE_BLOCK_S);
  }

  /** Fixed window of `seconds` (default one minute): true while the counter stays within `limit`. */
  private async within(bucket: string, limit: number, seconds = 60): Promise<boolean> {
    const key = `relay:rate:${bucket}:${seconds}:${Math.floor(Date.now() / (seconds * 1000))}`;
    const [[, count]] = (await this.redis
      .multi()
      .incr(key)
      .expire(key, seconds * 2)
      .exec()) as [[Error | null, number]];
    return count <= limit;
  }

  private log(refusal: SmtpRefusal, ctx: Record<string, string | null>): SmtpRefusal {
    refusal.applicationId = ctx.applicationId ?? null;
    refusal.connectionId = ctx.connectionId ?? null;
    this.logger.log(JSON.stringify({ decision: 'refused', code: refusal.responseCode, reason: refusal.reason, ...ctx }));
    return refusal;
  }
}
