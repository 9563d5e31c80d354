import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The socket error seen while sending or reading, if any (EPIPE, ECONNRESET). */
  error: string | null;
  /** Everything received (latin1), e.g. to find a second pipelined response. */
  raw: string;
}

/** Parses the first HTTP/1.1 response in `raw` (the body up to its Content-Length, or to the end). */
export function parseResponse(input: string): Omit<RawResponse, 'error' | 'raw'> | null {
  // Interim answers (100 Continue) come first; the final one follows.
  const raw = input.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = raw.slice(split + 4);
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : rest.length;
  return { status, headers, body: rest.slice(0, length) };
}

/**
 * Sends raw bytes to the server and collects what comes back until the server
 * closes the connection (or `untilComplete` sees a whole response). Resolves,
 * never rejects: socket errors are reported in `error`.
 */
export function rawRequest(
  baseUrl: string,
  chunks: (string | Buffer)[],
  options: { untilComplete?: boolean; onData?: (received: string, write: (chunk: string | Buffer) => void) => void } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let error: string | null = null;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const parsed = parseResponse(received);
      resolve({ status: parsed?.status ?? 0, headers: parsed?.headers ?? {}, body: parsed?.body ?? '', error, raw: received });
    };
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (data) => {
      received += data.toString('latin1');
      options.onData?.(received, (chunk) => socket.write(chunk));
      if (options.untilComplete) {
        const parsed = parseResponse(received);
        if (parsed && parsed.body.length >= Number(parsed.headers['content-length'] ?? Infinity)) finish();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      finish();
    });
    socket.on('close', finish);
  });
}
