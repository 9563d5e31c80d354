import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

/** The family a refresh token belongs to (null for a token never issued). */
export async function refreshFamilyOf(db: DataSource, token: string): Promise<string | null> {
  const [row] = await db.query<{ family_id: string }[]>('SELECT family_id FROM refresh_tokens WHERE token_hash = ?', [createHash('sha256').update(token).digest()]);
  return row?.family_id ?? null;
}

/**
 * Moves every refresh token of a connection `seconds` into the past (issue
 * and use times; not the absolute expiry): the idle timeout and the reuse
 * window then see that much time gone by, without waiting for it.
 */
export async function ageRefreshTokens(db: DataSource, connectionId: string, seconds: number): Promise<void> {
  await db.query('UPDATE refresh_tokens SET created_at = created_at - INTERVAL ? SECOND, used_at = used_at - INTERVAL ? SECOND WHERE connection_id = ?', [
    seconds,
    seconds,
    connectionId,
  ]);
}
