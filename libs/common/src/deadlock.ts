/** MySQL/MariaDB refused a transaction to break a lock cycle; it was rolled back whole and can run again. */
export function isDeadlock(error: unknown): boolean {
  const e = error as { code?: string; errno?: number; driverError?: { code?: string } } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.driverError?.code === 'ER_LOCK_DEADLOCK';
}

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
