import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status?: number;
}

/** A webhook's JSON body: the event type, when it happened, and the event's data. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: { connectionId: string; [field: string]: unknown };
}

/** The parsed body of a received webhook. */
export function payloadOf(hook: ReceivedWebhook): WebhookPayload {
  return JSON.parse(hook.body) as WebhookPayload;
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides each response status (default 200); may delay. */
  respond: (hook: ReceivedWebhook, nth: number) => number | Promise<number>;
  close(): Promise<void>;
  /** Resolves once `predicate` holds for the received list (polls). */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
}

/** A local webhook endpoint for tests, recording every request. */
export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => 200,
    close: () => Promise.resolve(),
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.received)) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met in ${timeoutMs} ms (${receiver.received.length} received)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const hook: ReceivedWebhook = { headers: req.headers, body };
      receiver.received.push(hook);
      void Promise.resolve(receiver.respond(hook, receiver.received.length)).then((status) => {
        hook.status = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return receiver;
}
