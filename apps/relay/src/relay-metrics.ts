import { relayMessages } from '@app/common';
import { AcceptedRecipient } from '@app/relay';

/** Stored recipients: forwarded when a copy is queued for sending (forward, reply), dropped otherwise (muted, bounce). */
export function countAccepted(recipients: AcceptedRecipient[]): void {
  for (const r of recipients) relayMessages.inc({ decision: r.kind === 'forward' || r.kind === 'reply' ? 'forwarded' : 'dropped' });
}

/** An SMTP refusal (at MAIL FROM, RCPT TO or DATA). */
export function countRefused(): void {
  relayMessages.inc({ decision: 'refused' });
}
