import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { registry } from './registry';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** With a METRICS_TOKEN, /metrics needs `Authorization: Bearer <token>` (compared in constant time). */
export function metricsAuthorized(authorization: string | undefined, token: string | null): boolean {
  if (token === null) return true;
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), digest(token));
}

export const METRICS_UNAUTHORIZED = {
  error: 'invalid_token',
  error_description: 'This endpoint needs Authorization: Bearer with the metrics token.',
} as const;

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse, token: string | null) {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') return sendJson(res, 404, { error: 'not_found', error_description: 'Only /metrics is served here.' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, { error: 'method_not_allowed', error_description: '/metrics accepts only GET.' }, { allow: 'GET, HEAD' });
  }
  if (!metricsAuthorized(req.headers.authorization, token)) return sendJson(res, 401, METRICS_UNAUTHORIZED, { 'www-authenticate': 'Bearer' });
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch {
    sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'The metrics could not be read right now.' });
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** The /metrics server of a process without HTTP of its own (worker, relay). */
export async function startMetricsServer(port: number, host: string, token: string | null): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => void handle(req, res, token));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
