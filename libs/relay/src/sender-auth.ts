import { Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { authenticate, AuthenticateResult, DNSResolver } from 'mailauth';
import { spf } from 'mailauth/lib/spf';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Address, parseAddress } from './addresses';
import { buildMessage, headerValue, parseMailboxes, splitMessage } from './message';
import { AcceptedRecipient } from './relay.constants';

/** Where the client connected from, as the SMTP session knows it. */
export interface SmtpClient {
  ip: string;
  helo: string;
}

/** Whether `domain` is `of` or one of its subdomains, or the other way round (relaxed alignment). */
export function aligned(domain: string | undefined, of: string): boolean {
  if (!domain) return false;
  const a = domain.toLowerCase();
  const b = of.toLowerCase();
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/**
 * SPF, DKIM, DMARC and ARC of inbound mail (mailauth), with the resolver
 * DNS_SERVERS names. The relay calls spfPasses() at MAIL FROM (to know
 * whether RCPT answers may differ) and check() at the end of DATA.
 */
@Injectable()
export class SenderAuth {
  readonly resolver: DNSResolver;
  private readonly mta: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
    if (config.relay.dnsServers.length) resolver.setServers(config.relay.dnsServers);
    this.resolver = (name: string, type: string) => resolver.resolve(name, type);
    this.mta = config.relayDomain;
  }

  async spfPasses(sender: string, client: SmtpClient): Promise<boolean> {
    if (!sender) return false;
    const result = await spf({ sender, ip: client.ip, helo: client.helo, mta: this.mta, resolver: this.resolver });
    return result.status.result === 'pass';
  }

  /**
   * The whole message: every accepted recipient's rule must hold, else the
   * answer is null (refused). A forward needs one From mailbox whose domain
   * is a registered sender domain passing DMARC (SPF or DKIM aligned with
   * it), or whose address is a registered sender address passing SPF; a
   * reply needs its envelope sender to pass SPF or DKIM. Returns the message
   * with our Authentication-Results on top (incoming ones are removed).
   */
  async check(
    raw: Buffer,
    sender: string,
    client: SmtpClient,
    recipients: AcceptedRecipient[],
  ): Promise<{ raw: Buffer; ok: boolean; reason: string; envelopeAuthenticated: boolean }> {
    const result = await authenticate(raw, {
      sender,
      ip: client.ip,
      helo: client.helo,
      mta: this.mta,
      resolver: this.resolver,
      disableBimi: true,
    });
    const message = splitMessage(raw);
    const stamped = Buffer.concat([Buffer.from(result.headers, 'latin1'), buildMessage(message, (name) => name === 'authentication-results' || name === 'received-spf', [])]);
    const envelope = parseAddress(sender);
    // SPF or DKIM passing for the envelope sender's domain, whatever the recipients.
    const envelopeAuthenticated = envelope !== null && replyFails(result, envelope) === null;
    for (const r of recipients) {
      const reason = r.kind === 'bounce' ? null : r.kind === 'reply' ? replyFails(result, envelope) : forwardFails(result, message, envelope, r);
      if (reason) return { raw: stamped, ok: false, reason, envelopeAuthenticated };
    }
    return { raw: stamped, ok: true, reason: '', envelopeAuthenticated };
  }
}

function spfPass(result: AuthenticateResult): boolean {
  return result.spf !== false && result.spf.status.result === 'pass';
}

function dkimPassFor(result: AuthenticateResult, domain: string): boolean {
  return (result.dkim.results ?? []).some((d) => d.status.result === 'pass' && aligned(d.signingDomain, domain));
}

function replyFails(result: AuthenticateResult, envelope: Address | null): string | null {
  if (!envelope) return 'reply without sender';
  return spfPass(result) || dkimPassFor(result, envelope.domain) ? null : 'reply sender not authenticated';
}

function forwardFails(result: AuthenticateResult, message: ReturnType<typeof splitMessage>, envelope: Address | null, r: AcceptedRecipient): string | null {
  const fromFields = message.headers.filter((h) => h.name === 'from');
  const mailboxes = parseMailboxes(headerValue(message, 'from'));
  if (fromFields.length !== 1 || mailboxes.length !== 1) return 'from is not one mailbox';
  const from = parseAddress(mailboxes[0].address);
  if (!from) return 'from is not one mailbox';
  if ((r.senderAddresses ?? []).includes(from.address)) {
    return spfPass(result) && envelope !== null && aligned(envelope.domain, from.domain) ? null : 'sender address not authenticated';
  }
  if (!(r.senderDomains ?? []).includes(from.domain)) return 'from not registered';
  if (result.dmarc && result.dmarc.status.result === 'pass') return null;
  if (result.dmarc && result.dmarc.status.result === 'fail') return 'dmarc fail';
  const spfAligned = spfPass(result) && envelope !== null && aligned(envelope.domain, from.domain);
  return spfAligned || dkimPassFor(result, from.domain) ? null : 'not aligned';
}
