import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { generate } from 'selfsigned';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { inSpan, SpanKind } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AcceptedRecipient, RelayIntake, RelayLogService, RelayRouting, SenderAuth, SmtpClient, SmtpRefusal } from '@app/relay';
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

/** Probes of unknown relay addresses, counted per client IP. */
const PROBE_REASONS = new Set(['unknown address', 'unknown reply alias']);

/** The same answer for every message of an unregistered or unauthenticated sender. */
const UNAUTHENTICATED = '5.7.1 Sender not registered or not authenticated';

interface Transaction {
  accepted: AcceptedRecipient[];
  /** Refusals not answered at RCPT (the sender was not authenticated then): answered at the end of DATA. */
  deferred: SmtpRefusal[];
  /** A sender some application registered, passing SPF: RCPT answers may then differ. */
  authenticated: boolean;
}

const newTransaction = (): Transaction => ({ accepted: [], deferred: [], authenticated: false });

const client = (session: SMTPServerSession): SmtpClient => ({ ip: session.remoteAddress, helo: session.hostNameAppearsAs || session.clientHostname || '' });

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
  /** The transaction in progress, per session. */
  private readonly transactions = new Map<string, Transaction>();

  constructor(
    private readonly routing: RelayRouting,
    private readonly intake: RelayIntake,
    private readonly auth: SenderAuth,
    private readonly relayLog: RelayLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async listen(): Promise<number> {
    const { maxBytes } = this.config.relay;
    const tls = await this.tlsPair();
    this.server = new SMTPServer({
      name: this.config.relayDomain,
      banner: 'LoginSign relay',
      size: maxBytes,
      authOptional: true,
      // STARTTLS when a certificate is there; AUTH is never offered (nobody submits mail here).
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      logger: false,
      maxClients: 1000,
      onConnect: (session, done) => {
        this.transactions.set(session.id, newTransaction());
        this.routing.probeBlocked(session.remoteAddress).then(
          (blocked) => done(blocked ? smtpError(421, '4.7.0 Too many unknown recipients from your address, try again later') : undefined),
          (e) => done(this.toSmtp(e)),
        );
      },
      onClose: (session) => this.transactions.delete(session.id),
      onMailFrom: (address, session, done) => {
        const transaction = newTransaction();
        this.transactions.set(session.id, transaction);
        const args = address.args as unknown as Record<string, string> | false;
        const declared = Number(args ? (args.SIZE ?? 0) : 0);
        if (declared > maxBytes) return done(smtpError(552, `5.3.4 Message too big (limit ${maxBytes} bytes)`));
        this.routing
          .checkSender(address.address, session.id)
          .then(async () => {
            transaction.authenticated =
              !!address.address && (await this.routing.registeredAnywhere(address.address)) && (await this.auth.spfPasses(address.address, client(session)));
          })
          .then(
            () => done(),
            (e) => done(this.toSmtp(e)),
          );
      },
      onRcptTo: (address, session, done) => {
        const transaction = this.transactions.get(session.id) ?? newTransaction();
        const accepted = transaction.accepted;
        // A recipient listed twice in one transaction is delivered once.
        if (accepted.some((r) => r.rcpt === address.address.trim().toLowerCase())) return done();
        if (accepted.length + transaction.deferred.length >= MAX_RECIPIENTS) return done(smtpError(452, '4.5.3 Too many recipients'));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        this.routing.route(from, address.address, session.id).then(
          (decision) => {
            accepted.push(decision);
            done();
          },
          async (e) => {
            if (!(e instanceof SmtpRefusal)) return done(this.toSmtp(e));
            if (PROBE_REASONS.has(e.reason)) await this.routing.countProbe(session.remoteAddress).catch(() => undefined);
            if (e.applicationId) this.record(e.applicationId, e.connectionId, from, address.address, `${e.responseCode} ${e.message} (${e.reason})`);
            // Another domain is refused whoever asks; for a sender that is not
            // authenticated every relay address gets the same answer here.
            if (transaction.authenticated || e.reason === 'foreign domain') return done(this.toSmtp(e));
            transaction.deferred.push(e);
            done();
          },
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
      const transaction = this.transactions.get(session.id) ?? newTransaction();
      this.transactions.set(session.id, newTransaction());
      const recipients = transaction.accepted;
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
      // One span per message (the root of its trace): the forward jobs queued while storing it continue it.
      const attributes = { 'loginsign.smtp.session': session.id, 'loginsign.smtp.recipients': recipients.length, 'loginsign.smtp.bytes': size };
      this.auth
        .check(raw, from, client(session), recipients)
        .then(async (checked) => {
          // A deferred temporary answer (rate, unconfirmed address) only reaches a sender whose SPF or DKIM passes.
          const refusal = transaction.deferred.find((e) => e.responseCode >= 500 || !checked.envelopeAuthenticated);
          if (!checked.ok || refusal) {
            const reason = checked.ok ? refusal!.reason : checked.reason;
            this.logger.log(JSON.stringify({ decision: 'refused', code: 550, reason, session: session.id }));
            for (const r of recipients) if (r.applicationId) this.record(r.applicationId, r.connectionId, from, r.rcpt, `550 ${UNAUTHENTICATED} (${reason})`);
            countRefused();
            throw smtpError(550, UNAUTHENTICATED);
          }
          const temporary = transaction.deferred[0];
          if (temporary) throw this.toSmtp(temporary);
          if (!recipients.length) throw smtpError(554, '5.5.1 No valid recipients');
          return inSpan('smtp message', SpanKind.SERVER, attributes, () => this.intake.accept(from, recipients, checked.raw, session.id));
        })
        .then(
          (ids) => {
            countAccepted(recipients);
            done(null, `2.0.0 Ok: queued as ${ids.join(',')}`);
          },
          (error: Error & { responseCode?: number }) => {
            if (error.responseCode) return done(error);
            this.logger.error(`could not store a message: ${error.message}`);
            done(smtpError(451, '4.3.0 Temporary failure, try again later'));
          },
        );
    });
    stream.on('error', () => done(smtpError(451, '4.3.0 Temporary failure, try again later')));
  }

  /** A refusal in the application's relay log; a failed write is logged, never answered. */
  private record(applicationId: string, connectionId: string | null, from: string, rcpt: string, reason: string) {
    this.relayLog.refused(applicationId, connectionId, from.toLowerCase(), rcpt.toLowerCase(), reason).catch((error: Error) => this.logger.warn(`relay log: ${error.message}`));
  }

  /** RELAY_TLS_CERT/KEY, else (outside production) a self-signed pair generated once and kept next to SECRETS_FILE. */
  private async tlsPair(): Promise<{ cert: string; key: string } | null> {
    if (this.config.relay.tls) return this.config.relay.tls;
    const file = this.config.relay.devTlsFile;
    if (!file) return null;
    if (!existsSync(file)) {
      const pems = await generate([{ name: 'commonName', value: this.config.relayDomain }], { keySize: 2048 });
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({ cert: pems.cert, key: pems.private }), { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
    return JSON.parse(await readFile(file, 'utf8')) as { cert: string; key: string };
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
