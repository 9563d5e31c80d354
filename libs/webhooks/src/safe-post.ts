import { lookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, LookupFunction } from 'node:net';

/** Loopback, private, link-local, CGNAT, unique-local and other non-public ranges. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class BlockedTargetError extends Error {}

export interface PostResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

/**
 * POSTs a webhook. The address is checked after DNS resolution, at connect
 * time (so DNS rebinding cannot slip a private address in); redirects are not
 * followed; the whole attempt is bounded by `timeoutMs`.
 */
export function safePost(url: string, headers: Record<string, string>, body: string, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<PostResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ statusCode: null, durationMs: 0, error: 'invalid webhook URL', responseExcerpt: null });
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && isPrivateAddress(host)) {
      return resolve({ statusCode: null, durationMs: 0, error: 'blocked: private, loopback or link-local address', responseExcerpt: null });
    }
    const checkedLookup: LookupFunction = (hostname, options, callback) => {
      lookup(hostname, options, (err, address, family) => {
        if (err) return callback(err, address, family);
        const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
        if (!opts.allowPrivate && addresses.some(isPrivateAddress)) {
          return callback(new BlockedTargetError('blocked: resolves to a private, loopback or link-local address'), address, family);
        }
        callback(null, address, family);
      });
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup: checkedLookup, timeout: opts.timeoutMs }, (res) => {
      let excerpt = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (excerpt.length < 1024) excerpt += chunk.slice(0, 1024 - excerpt.length);
      });
      res.on('end', () => resolve({ statusCode: res.statusCode ?? null, durationMs: elapsed(), error: null, responseExcerpt: excerpt || null }));
      res.on('error', (e) => resolve({ statusCode: res.statusCode ?? null, durationMs: elapsed(), error: e.message, responseExcerpt: excerpt || null }));
    });
    const deadline = setTimeout(() => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)));
    req.on('error', (e) => resolve({ statusCode: null, durationMs: elapsed(), error: e.message.slice(0, 500), responseExcerpt: null }));
    req.end(body);
  });
}
