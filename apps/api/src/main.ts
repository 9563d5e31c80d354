import './tracing';
import cluster, { Worker } from 'node:cluster';
import { AppConfig, loadConfig } from '@app/config';
import { limitHeapGrowth } from '@app/common';
import { warnIfExposed } from './exposure';
import { createApi } from './bootstrap';
import { stopTracing } from '../../../libs/common/src/tracing/start';

/** One API process: the HTTP app on config.port (in a cluster child, the port is shared with its siblings). */
async function serve(config: AppConfig) {
  const app = await createApi(config);
  await app.listen({ port: config.port, host: config.host });
  const worker = cluster.isWorker ? ` (cluster worker ${cluster.worker!.id}, pid ${process.pid})` : '';
  app.getHttpAdapter().getInstance().log.info(`LoginSign API listening on ${config.publicUrl}${worker}`);
  warnIfExposed(config, (message) => app.getHttpAdapter().getInstance().log.warn(message));
  // Graceful stop on the first SIGTERM/SIGINT; later ones are ignored (Ctrl-C reaches the whole
  // process group and npm start or the cluster primary then send SIGTERM too: the second signal
  // must not cut the first one's shutdown short). Replaces Nest's own signal listeners.
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => stopTracing().then(() => process.exit(0)),
      () => process.exit(1),
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, shutdown);
  }
}

/**
 * API_PROCESSES > 1: this process forks that many children that share the
 * listening port (node:cluster hands connections out round-robin; keep-alive
 * connections are closed after HTTP_MAX_REQUESTS_PER_SOCKET requests so
 * their clients reconnect and spread over the children). A child
 * that dies is replaced (at most once a second, so a crash loop does not
 * spin); SIGTERM/SIGINT are passed to every child, and the primary exits once
 * they all have.
 */
function primary(config: AppConfig) {
  let stopping = false;
  const lastFork: number[] = [];
  // Round-robin hand-out of connections (the default except on Windows), said explicitly.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const fork = (): Worker => cluster.fork();
  const children = new Set<Worker>();

  const start = () => {
    const child = fork();
    children.add(child);
    lastFork.push(Date.now());
  };
  cluster.on('exit', (child, code, signal) => {
    children.delete(child);
    if (stopping) {
      if (children.size === 0) process.exit(0);
      return;
    }
    console.error(`LoginSign API process ${child.process.pid} exited (${signal ?? code}); starting a new one`);
    const recent = lastFork.filter((t) => Date.now() - t < 1000).length;
    setTimeout(start, recent > 0 ? 1000 : 0);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.process.kill(signal);
    if (children.size === 0) process.exit(0);
    const force = setTimeout(() => {
      for (const child of children) child.process.kill('SIGKILL');
      process.exit(1);
    }, 15_000);
    force.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
  for (let i = 0; i < config.apiProcesses; i++) start();
  console.log(`LoginSign API: ${config.apiProcesses} processes on ${config.host}:${config.port} (primary pid ${process.pid})`);
}

function main() {
  const config = loadConfig();
  limitHeapGrowth(config.heapGrowingPercent);
  if (cluster.isPrimary && config.apiProcesses > 1) {
    primary(config);
    return;
  }
  serve(config).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

main();
