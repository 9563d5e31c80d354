import path from 'node:path';
import { AppProcess, startAppProcess } from './app-process';

export type ApiProcess = AppProcess & { baseUrl: string };

/** A TCP port free on 127.0.0.1 right now (shared with the benches: scripts/lib.js). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const freePort = (require(path.resolve(__dirname, '../../scripts/lib')) as { freePort: () => Promise<number> }).freePort;

/**
 * Starts apps/api as a real child process (like a second machine behind a
 * load balancer) on `port`, with the test's environment; resolves once
 * /health/ready answers 200.
 */
export async function startApiProcess(env: Record<string, string>, port: number, processes = 1): Promise<ApiProcess> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const api = await startAppProcess(
    'api',
    { ...env, HOST: '127.0.0.1', PORT: String(port), API_PROCESSES: String(processes), LOG_LEVEL: process.env.TEST_API_LOG_LEVEL ?? 'warn' },
    async () => {
      try {
        const res = await fetch(`${baseUrl}/health/ready`);
        await res.arrayBuffer();
        return res.ok;
      } catch {
        return false; // not listening yet
      }
    },
  );
  return Object.assign(api, { baseUrl });
}
