import { isDeadlock } from './db-errors';

/**
 * Runs `work` (one statement or one whole transaction) and runs it again when
 * the database picked it as a deadlock victim, after a short random pause
 * that grows with each attempt, so the competing transactions do not collide
 * again in lockstep. Other errors, and the last deadlock, are thrown.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error: unknown) {
      if (!isDeadlock(error) || attempt >= attempts) throw error;
      const pause = Math.round((5 + Math.random() * 20) * attempt);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
