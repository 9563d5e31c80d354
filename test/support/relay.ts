import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { AppProcess, startAppProcess } from './app-process';

export type RelayProcess = AppProcess & { port: number };

/** Starts apps/relay as a real child process on a random port. */
export async function startRelay(env: Record<string, string>): Promise<RelayProcess> {
  const relay = await startAppProcess(
    'relay',
    { ...env, RELAY_SMTP_PORT: env.RELAY_SMTP_PORT ?? '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'info' },
    (output) => Number(/LoginSign relay listening on port (\d+)/.exec(output)?.[1] ?? 0),
  );
  return Object.assign(relay, { port: relay.ready });
}

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

export interface Sink {
  port: number;
  url: string;
  received: SinkMessage[];
  /** Answer RCPT for these addresses with a permanent 550. */
  reject: Set<string>;
  waitFor(predicate: (received: SinkMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A local SMTP server that stands for the users' and the apps' mail servers. */
export async function startSink(port = 0): Promise<Sink> {
  const received: SinkMessage[] = [];
  const reject = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 50 * 1024 * 1024,
    closeTimeout: 200,
    onRcptTo(address, _session, done) {
      if (reject.has(address.address.toLowerCase())) return done(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
      done();
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    received,
    reject,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`sink: condition not met in ${timeoutMs} ms (${received.length} received)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
