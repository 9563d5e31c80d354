import { TraceCarrier } from '@app/common';
export const RELAY_QUEUE = 'relay-mail';

/** A send job; the trace context is the SMTP message's that stored it (absent when the sweep queues it). */
export interface RelayJob extends TraceCarrier {
  messageId: string;
}

/** What the relay decided for one accepted recipient. */
export type RelayKind = 'forward' | 'reply' | 'muted' | 'bounce';

export interface AcceptedRecipient {
  kind: RelayKind;
  rcpt: string;
  applicationId: string | null;
  connectionId: string | null;
  /** The application's registered senders (forward and muted), checked again at the end of DATA. */
  senderDomains?: string[];
  senderAddresses?: string[];
}

/** An SMTP refusal: the code and enhanced status text the client sees. */
export class SmtpRefusal extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
    /** For the log: which rule refused. */
    readonly reason: string,
  ) {
    super(message);
  }

  /** The application and connection the refused recipient belongs to, when known (for its relay log). */
  applicationId: string | null = null;
  connectionId: string | null = null;
}
