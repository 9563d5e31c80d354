import { isDeadlock } from './db-errors';

export interface DeadlockRetry {
  /** Runs in all, the first included (default 5). */
  attempts?: number;
  /** Retry a lock wait timeout too (default false). */
  orLockWaitTimeout?: boolean;
}

/**
 * Runs `work` (one statement or one whole transaction) and runs it again when
 * the database picked it as a deadlock victim, after a short random pause
 * that grows with each attempt, so the competing transactions do not collide
 * again in lockstep. Other errors, and the last deadlock, are thrown.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, options: DeadlockRetry | number = {}): Promise<T> {
  const { attempts = 5, orLockWaitTimeout = false } = typeof options === 'number' ? { attempts: options } : options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error: unknown) {
      if (!isDeadlock(error, orLockWaitTimeout) || attempt >= attempts) throw error;
      const pause = Math.round((5 + Math.random() * 20) * attempt);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
