/**
 * True for MySQL's duplicate-key error (a UNIQUE index refused the row);
 * with `index`, only when that index did.
 */
export function isDuplicateKey(error: unknown, index?: string): boolean {
  const e = error as { code?: string; sqlMessage?: string; driverError?: { code?: string; sqlMessage?: string } };
  if ((e?.driverError?.code ?? e?.code) !== 'ER_DUP_ENTRY') return false;
  return index === undefined || String(e?.driverError?.sqlMessage ?? e?.sqlMessage).includes(index);
}

/** True for a deadlock (and, with `orLockWaitTimeout`, a lock wait timeout): the transaction may be retried from its start. */
export function isDeadlock(error: unknown, orLockWaitTimeout = false): boolean {
  const e = error as { code?: string; errno?: number; driverError?: { code?: string } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || (orLockWaitTimeout && code === 'ER_LOCK_WAIT_TIMEOUT');
}
