// A throwaway Redis Cluster for a bench: 3 masters + 3 replicas, redis-server
// on free loopback ports in a temp dir, stopped by PID.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './setup';

const run = promisify(execFile);

export interface BenchRedisCluster {
  /** `redis+cluster://...` naming every node. */
  url: string;
  stop(): Promise<void>;
}

async function clusterOk(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO']).catch(() => ({ stdout: '' }));
  return stdout.includes('cluster_state:ok');
}

export async function startRedisCluster(): Promise<BenchRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(
      children
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map(async (c) => {
          const exited = once(c, 'exit');
          c.kill('SIGKILL');
          await exited;
        }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      ports.push(port);
      const argv = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${i}.conf`,
      ];
      children.push(spawn('redis-server', argv, { stdio: 'ignore' }));
    }
    await until(
      async () =>
        (
          await Promise.all(
            ports.map((p) =>
              run('redis-cli', ['-p', String(p), 'PING']).then(
                (r) => r.stdout.trim() === 'PONG',
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      'redis-server nodes',
    );
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    await until(async () => (await Promise.all(ports.map(clusterOk))).every(Boolean), 'cluster_state:ok on every node');
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
