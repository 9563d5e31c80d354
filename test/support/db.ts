import { DataSource } from 'typeorm';
import { decrypt } from '@app/common';

/** A row as MySQL returns it: tests read its columns by name and check their values. */
export type Row = Record<string, unknown>;

/** The rows a SELECT returns. */
export function selectRows<T = Row>(db: DataSource, sql: string, params?: unknown[]): Promise<T[]> {
  return db.query<T[]>(sql, params);
}

/** The number a `SELECT COUNT(*) AS n ...` answers. */
export async function countRows(db: DataSource, sql: string, params?: unknown[]): Promise<number> {
  const [row] = await db.query<{ n: number | string }[]>(sql, params);
  return Number(row.n);
}

/** An outbox event as the tests compare it: its type and the payload's `data`. */
export interface OutboxEvent {
  type: string;
  data: Record<string, unknown>;
}

/** The outbox rows of an application, oldest first, as {type, data}. */
export async function webhookEvents(db: DataSource, appId: string): Promise<OutboxEvent[]> {
  const rows = await db.query<{ type: string; payload: string }[]>('SELECT type, payload FROM webhook_events WHERE application_id = ? ORDER BY created_at, id', [appId]);
  return rows.map((r) => ({ type: r.type, data: (JSON.parse(r.payload) as { data: Record<string, unknown> }).data }));
}

/** An application's plain webhook secret, unsealed from its row with the data encryption key (null for an unknown application). */
export async function webhookSecretOf(db: DataSource, dataEncryptionKey: Parameters<typeof decrypt>[0], appId: string): Promise<string | null> {
  const [row] = await db.query<{ webhook_secret_enc: string }[]>('SELECT webhook_secret_enc FROM applications WHERE id = ?', [appId]);
  return row ? decrypt(dataEncryptionKey, row.webhook_secret_enc) : null;
}
