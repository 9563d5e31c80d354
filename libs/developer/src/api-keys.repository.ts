import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A developer API key as stored in `developer_api_keys` (the key itself is never stored, only its SHA-256). */
export interface StoredApiKey {
  id: string;
  developerId: number;
  name: string;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

interface ApiKeyRow {
  id: string;
  developer_id: number | string;
  name: string;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, developer_id, name, last_used_at, expires_at, revoked_at, created_at';

const toStored = (r: ApiKeyRow): StoredApiKey => ({
  id: r.id,
  developerId: Number(r.developer_id),
  name: r.name,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  createdAt: r.created_at,
});

/** The SQL of `developer_api_keys` (typed raw SQL, no entity). */
@Injectable()
export class ApiKeysRepository {
  constructor(private readonly db: DataSource) {}

  async insert(key: Omit<StoredApiKey, 'lastUsedAt' | 'revokedAt'>, keyHash: Buffer): Promise<void> {
    await this.db.query(`INSERT INTO developer_api_keys (id, developer_id, name, key_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`, [
      key.id,
      key.developerId,
      key.name,
      keyHash,
      key.expiresAt,
      key.createdAt,
    ]);
  }

  /** The developer's keys, newest first. */
  async listByDeveloper(developerId: number): Promise<StoredApiKey[]> {
    const rows: ApiKeyRow[] = await this.db.query(`SELECT ${COLUMNS} FROM developer_api_keys WHERE developer_id = ? ORDER BY created_at DESC, id DESC`, [developerId]);
    return rows.map(toStored);
  }

  async findByHash(keyHash: Buffer): Promise<StoredApiKey | null> {
    const [row]: ApiKeyRow[] = await this.db.query(`SELECT ${COLUMNS} FROM developer_api_keys WHERE key_hash = ?`, [keyHash]);
    return row ? toStored(row) : null;
  }

  async findOwned(developerId: number, id: string): Promise<StoredApiKey | null> {
    const [row]: ApiKeyRow[] = await this.db.query(`SELECT ${COLUMNS} FROM developer_api_keys WHERE id = ? AND developer_id = ?`, [id, developerId]);
    return row ? toStored(row) : null;
  }

  /** Marks the key revoked (the first revocation's time stays). */
  async revoke(developerId: number, id: string, at: Date): Promise<void> {
    await this.db.query(`UPDATE developer_api_keys SET revoked_at = ? WHERE id = ? AND developer_id = ? AND revoked_at IS NULL`, [at, id, developerId]);
  }

  /** Records a use, unless one was recorded since `unlessSince` (concurrent requests write at most once). */
  async touch(id: string, at: Date, unlessSince: Date): Promise<void> {
    await this.db.query(`UPDATE developer_api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, [at, id, unlessSince]);
  }
}
