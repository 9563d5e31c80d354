import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from './api-process';
import { eventually } from './eventually';

const run = promisify(execFile);

/** One redis-server (data node or sentinel) started by a test, on 127.0.0.1. */
export interface RedisServer {
  port: number;
  child: ChildProcess;
  /** A plain connection to this node (no prefix; one per node), closed by `stopAll`. */
  client(): Redis;
  kill(signal?: NodeJS.Signals): Promise<void>;
  alive(): boolean;
}

/** Starts and stops the Redis processes of one test file: every process by its PID, even after a failure. */
export class RedisServers {
  readonly dir = mkdtempSync(join(tmpdir(), 'ls-redis-'));
  private readonly servers: RedisServer[] = [];
  private readonly clients: Redis[] = [];

  /** Starts `redis-server` with `args` (config lines as flags) and waits until it answers PING. */
  async start(args: string[], configFile?: string): Promise<RedisServer> {
    const port = await freePort();
    const argv = [...(configFile ? [configFile] : []), '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...args];
    const child = spawn('redis-server', argv, { stdio: 'ignore' });
    // One attempt per command: a test probing a dead node must not hang.
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    client.on('error', () => undefined);
    this.clients.push(client);
    const server: RedisServer = {
      port,
      child,
      client: () => client,
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (!server.alive()) return;
        const exited = once(child, 'exit');
        child.kill(signal);
        await exited;
      },
      alive: () => child.exitCode === null && child.signalCode === null,
    };
    this.servers.push(server);
    const probe = server.client();
    await eventually(async () => (await probe.ping().catch(() => null)) === 'PONG', `redis-server on port ${port}`, 10_000);
    return server;
  }

  /** Writes a config file in the temp dir (sentinels rewrite theirs). */
  configFile(name: string, lines: string[]): string {
    const path = join(this.dir, name);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  }

  async stopAll(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await Promise.all(this.servers.map((s) => s.kill('SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface TestRedisCluster {
  /** `redis+cluster://...` naming every node. */
  url: string;
  nodes: RedisServer[];
  /** The live nodes that are masters now, with their key counts. */
  masters(): Promise<{ node: RedisServer; keys: number }[]>;
  /** Three live masters, and every live node reports cluster_state:ok. */
  healthy(): Promise<boolean>;
}

/** 3 masters + 3 replicas, cluster_state:ok on every node. */
export async function startRedisCluster(servers: RedisServers): Promise<TestRedisCluster> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < 6; i++) {
    nodes.push(
      await servers.start(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000', '--cluster-replica-validity-factor', '0']),
    );
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  const probes = nodes.map((n) => n.client());
  await eventually(
    async () => (await Promise.all(probes.map((p) => p.cluster('INFO').catch(() => '')))).every((info) => String(info).includes('cluster_state:ok')),
    'cluster_state:ok on every node',
  );
  const masters = async () => {
    const found: { node: RedisServer; keys: number }[] = [];
    for (const [i, node] of nodes.entries()) {
      if (!node.alive()) continue;
      const role = (await probes[i].role().catch(() => ['unknown'])) as [string];
      if (role[0] === 'master') found.push({ node, keys: await probes[i].dbsize() });
    }
    return found;
  };
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    masters,
    async healthy() {
      const live = probes.filter((_, i) => nodes[i].alive());
      const states = await Promise.all(live.map((p) => p.cluster('INFO').catch(() => '')));
      return states.every((info) => String(info).includes('cluster_state:ok')) && (await masters()).length === 3;
    },
  };
}

export const SENTINEL_MASTER = 'lsmaster';

export interface TestRedisSentinel {
  /** `redis+sentinel://...` naming the three sentinels. */
  url: string;
  data: RedisServer[];
  sentinels: RedisServer[];
  /** The data node the sentinels name as primary now. */
  primary(): Promise<RedisServer>;
  /** True once the sentinels know one live, synced replica of the current primary (ready for the next failover). */
  replicaReady(): Promise<boolean>;
}

/** A primary, a replica and 3 sentinels (quorum 2, down after 1 s). */
export async function startRedisSentinel(servers: RedisServers): Promise<TestRedisSentinel> {
  const primary = await servers.start([]);
  const replica = await servers.start(['--replicaof', '127.0.0.1', String(primary.port)]);
  const replicaProbe = replica.client();
  await eventually(async () => String(await replicaProbe.info('replication').catch(() => '')).includes('master_link_status:up'), 'the replica in sync');
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    const file = servers.configFile(`sentinel-${i}.conf`, [
      `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
    ]);
    sentinels.push(await servers.start(['--sentinel'], file));
  }
  const sentinelProbes = sentinels.map((s) => s.client());
  const data = [primary, replica];
  const ask = async (command: string[]) => {
    for (const probe of sentinelProbes) {
      const answer = await probe.call('SENTINEL', ...command).catch(() => null);
      if (answer) return answer;
    }
    throw new Error(`no sentinel answered SENTINEL ${command.join(' ')}`);
  };
  const setup: TestRedisSentinel = {
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${SENTINEL_MASTER}`,
    data,
    sentinels,
    async primary() {
      const [, port] = (await ask(['get-master-addr-by-name', SENTINEL_MASTER])) as [string, string];
      return data.find((d) => d.port === Number(port))!;
    },
    async replicaReady() {
      const replicas = (await ask(['replicas', SENTINEL_MASTER])) as string[][];
      const fields = replicas.map((flat) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))) as Record<string, string>);
      return fields.some((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
    },
  };
  // Every sentinel sees the primary, the replica and the two other sentinels.
  await eventually(async () => {
    const known = await Promise.all(sentinelProbes.map((p) => p.call('SENTINEL', 'sentinels', SENTINEL_MASTER).catch(() => []) as Promise<unknown[]>));
    return known.every((others) => others.length === 2) && (await setup.replicaReady());
  }, 'the sentinels to know each other and the replica');
  return setup;
}
