import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AcceptedRecipient, RelayIntake, RelayRouting, SmtpRefusal } from '@app/relay';
import { countAccepted, countRefused } from './relay-metrics';

/** Accepted recipients per transaction. */
const MAX_RECIPIENTS = 100;
/** Largest header section accepted (RFC 5321 leaves it open; 64 KiB is far above any real mail). */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Whether the header section (up to the first empty line) of `raw` ends within MAX_HEADER_BYTES. */
function headerWithinLimit(raw: Buffer): boolean {
  const window = raw.subarray(0, MAX_HEADER_BYTES + 4);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const end = [crlf, lf].filter((i) => i >= 0);
  if (!end.length) return raw.length <= MAX_HEADER_BYTES;
  return Math.min(...end) <= MAX_HEADER_BYTES;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * The inbound SMTP server of the relay. Every decision is taken at MAIL FROM
 * or RCPT TO (RelayRouting); DATA only reads the message (within
 * RELAY_MAX_BYTES), stores it and answers 250 once it is committed.
 */
@Injectable()
export class RelaySmtpServer implements OnApplicationShutdown {
  private readonly logger = new Logger('relay');
  private server?: SMTPServer;
  /** Accepted recipients of the transaction in progress, per session. */
  private readonly accepted = new Map<string, AcceptedRecipient[]>();

  constructor(
    private readonly routing: RelayRouting,
    private readonly intake: RelayIntake,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async listen(): Promise<number> {
    const { maxBytes } = this.config.relay;
    this.server = new SMTPServer({
      name: this.config.relayDomain,
      banner: 'LoginSign relay',
      size: maxBytes,
      authOptional: true,
      // TLS termination and AUTH are not offered here (see README "Email relay").
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      maxClients: 1000,
      onConnect: (session, done) => {
        this.accepted.set(session.id, []);
        done();
      },
      onClose: (session) => this.accepted.delete(session.id),
      onMailFrom: (address, session, done) => {
        this.accepted.set(session.id, []);
        const args = address.args as unknown as Record<string, string> | false;
        const declared = Number(args ? (args.SIZE ?? 0) : 0);
        if (declared > maxBytes) return done(smtpError(552, `5.3.4 Message too big (limit ${maxBytes} bytes)`));
        this.routing.checkSender(address.address, session.id).then(
          () => done(),
          (e) => done(this.toSmtp(e)),
        );
      },
      onRcptTo: (address, session, done) => {
        const accepted = this.accepted.get(session.id) ?? [];
        // A recipient listed twice in one transaction is delivered once.
        if (accepted.some((r) => r.rcpt === address.address.trim().toLowerCase())) return done();
        if (accepted.length >= MAX_RECIPIENTS) return done(smtpError(452, '4.5.3 Too many recipients'));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        this.routing.route(from, address.address, session.id).then(
          (decision) => {
            this.accepted.get(session.id)?.push(decision);
            done();
          },
          (e) => done(this.toSmtp(e)),
        );
      },
      onData: (stream, session, done) => this.onData(stream, session, done),
    });
    this.server.on('error', (error) => this.logger.warn(`smtp: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.config.relay.smtpPort, this.config.host, () => resolve());
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void) {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= this.config.relay.maxBytes) chunks.push(chunk);
    });
    stream.on('end', () => {
      const recipients = this.accepted.get(session.id) ?? [];
      this.accepted.set(session.id, []);
      if (stream.sizeExceeded || size > this.config.relay.maxBytes) {
        this.logger.log(JSON.stringify({ decision: 'refused', code: 552, reason: 'too big', session: session.id, bytes: size }));
        countRefused();
        return done(smtpError(552, `5.3.4 Message too big (limit ${this.config.relay.maxBytes} bytes)`));
      }
      const raw = Buffer.concat(chunks);
      if (!headerWithinLimit(raw)) {
        this.logger.log(JSON.stringify({ decision: 'refused', code: 552, reason: 'header too big', session: session.id, bytes: size }));
        countRefused();
        return done(smtpError(552, `5.3.4 Header section too big (limit ${MAX_HEADER_BYTES} bytes)`));
      }
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      this.intake.accept(from, recipients, raw, session.id).then(
        (ids) => {
          countAccepted(recipients);
          done(null, `2.0.0 Ok: queued as ${ids.join(',')}`);
        },
        (error) => {
          this.logger.error(`could not store a message: ${(error as Error).message}`);
          done(smtpError(451, '4.3.0 Temporary failure, try again later'));
        },
      );
    });
    stream.on('error', () => done(smtpError(451, '4.3.0 Temporary failure, try again later')));
  }

  private toSmtp(error: unknown): Error {
    if (error instanceof SmtpRefusal) {
      countRefused();
      return smtpError(error.responseCode, error.message);
    }
    this.logger.error(`relay decision failed: ${(error as Error).message}`);
    return smtpError(451, '4.3.0 Temporary failure, try again later');
  }

  async onApplicationShutdown() {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
