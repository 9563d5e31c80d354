/** True for MySQL's duplicate-key error (a UNIQUE index refused the row). */
export function isDuplicateKey(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e?.driverError?.code ?? e?.code) === 'ER_DUP_ENTRY';
}
