import { AppProcess, startAppProcess } from './app-process';

export type WorkerProcess = AppProcess;

/** Starts apps/worker as a real child process with the test's environment. */
export function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  return startAppProcess('worker', { ...env, LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'info' }, (output) => output.includes('LoginSign worker started'));
}
