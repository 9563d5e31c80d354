/** A Redis node address. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Credentials and transport shared by every node of a topology. */
export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/**
 * Where Redis is, parsed from REDIS_URL / QUEUE_REDIS_URL:
 * - `redis://` / `rediss://`: one node (the URL as ioredis reads it);
 * - `redis+sentinel://h1:26379,h2:26379/<master-name>[?sentinelPassword=...]`: the master a Sentinel set names;
 * - `redis+cluster://h1:7001,h2:7002`: a Redis Cluster (any reachable node; the rest is discovered).
 * `rediss+sentinel://` and `rediss+cluster://` use TLS to the data nodes.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; masterName: string; sentinelPassword?: string; db: number } & RedisAuth)
  | ({ kind: 'cluster'; nodes: RedisNode[] } & RedisAuth);

/** A malformed URL, with the reason (the caller names the variable). */
export class RedisUrlError extends Error {}

const DEFAULT_PORT = { sentinel: 26379, cluster: 6379 } as const;

function parseNode(entry: string, defaultPort: number): RedisNode {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!match || port < 1 || port > 65535) throw new RedisUrlError(`has a malformed host "${entry}" (expected host:port)`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

function decode(part: string | undefined): string | undefined {
  if (part === undefined || part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError('has a malformed percent-encoding in its credentials');
  }
}

/** Parses a Redis URL; throws RedisUrlError naming what is wrong. */
export function parseRedisUrl(value: string): RedisTarget {
  const scheme = /^([a-z+]+):\/\//.exec(value)?.[1];
  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      new URL(value);
    } catch {
      throw new RedisUrlError(`must be a URL, got "${value}"`);
    }
    return { kind: 'single', url: value };
  }
  const topology = /^rediss?\+(sentinel|cluster)$/.exec(scheme ?? '')?.[1] as 'sentinel' | 'cluster' | undefined;
  if (!topology) throw new RedisUrlError(`must use redis://, rediss://, redis+sentinel:// or redis+cluster://, got "${value}"`);
  const match = /^[a-z+]+:\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(value);
  if (!match) throw new RedisUrlError(`is malformed: "${value}"`);
  const [, userinfo, hostList, path = '', query = ''] = match;
  const [user, ...rest] = (userinfo ?? '').split(':');
  const auth: RedisAuth = { username: decode(user), password: decode(rest.join(':')), tls: scheme!.startsWith('rediss') };
  const nodes = hostList.split(',').map((entry) => parseNode(entry.trim(), DEFAULT_PORT[topology]));
  const params = new URLSearchParams(query);
  if (topology === 'cluster') {
    if (path !== '') throw new RedisUrlError('must not have a path (a Cluster has no databases): redis+cluster://host1:7001,host2:7002');
    return { kind: 'cluster', nodes, ...auth };
  }
  const [masterName, db = '0', ...extra] = path.split('/');
  if (!masterName || extra.length > 0 || !/^\d{1,2}$/.test(db)) {
    throw new RedisUrlError('must name the master: redis+sentinel://host1:26379,host2:26379/<master-name>[/<db>]');
  }
  return { kind: 'sentinel', sentinels: nodes, masterName: decode(masterName)!, sentinelPassword: params.get('sentinelPassword') ?? undefined, db: Number(db), ...auth };
}
