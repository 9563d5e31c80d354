import { request as httpRequest } from 'node:http';

export interface AddressedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** `name=value` of every Set-Cookie. */
  cookies: string[];
}

/**
 * One HTTP request from a chosen loopback source address (127.0.0.2, 127.0.0.3, ...):
 * on Linux every 127.0.0.0/8 address reaches a server bound to 127.0.0.1, so a
 * test can play several clients with distinct IPs.
 */
export function fromAddress(
  localAddress: string,
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<AddressedResponse> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? 'GET', headers: init.headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const setCookie = res.headers['set-cookie'] ?? [];
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), cookies: setCookie.map((c) => c.split(';')[0]) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** A JSON POST from `localAddress`. */
export function postJsonFrom(localAddress: string, baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<AddressedResponse> {
  return fromAddress(localAddress, baseUrl, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
