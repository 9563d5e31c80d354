import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface PasskeyRow {
  id: number | string;
  user_id: number | string;
  credential_id: string;
  public_key: Buffer;
  sign_count: number | string;
  transports: string;
  attachment: string | null;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** The SQL of `user_passkeys` (WebAuthn credentials, found by the SHA-256 of their id). */
@Injectable()
export class PasskeysRepository {
  constructor(private readonly db: DataSource) {}

  async insert(p: {
    userId: number;
    credentialId: string;
    credentialHash: string;
    publicKey: Buffer;
    signCount: number;
    transports: string;
    attachment: string | null;
    name: string;
  }): Promise<number> {
    const result: { insertId: number | string } = await this.db.query(
      `INSERT INTO user_passkeys (user_id, credential_id, credential_hash, public_key, sign_count, transports, attachment, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [p.userId, p.credentialId, p.credentialHash, p.publicKey, p.signCount, p.transports, p.attachment, p.name],
    );
    return Number(result.insertId);
  }

  async listOfUser(userId: number): Promise<PasskeyRow[]> {
    return this.db.query(
      `SELECT id, user_id, credential_id, public_key, sign_count, transports, attachment, name, created_at, last_used_at FROM user_passkeys WHERE user_id = ? ORDER BY id`,
      [userId],
    );
  }

  async findByCredentialHash(hash: string): Promise<PasskeyRow | null> {
    const [row]: PasskeyRow[] = await this.db.query(
      `SELECT id, user_id, credential_id, public_key, sign_count, transports, attachment, name, created_at, last_used_at FROM user_passkeys WHERE credential_hash = ?`,
      [hash],
    );
    return row ?? null;
  }

  /**
   * Records a use with the authenticator's new signature counter, only if the
   * stored counter is still the one checked (so two racing uses of a cloned
   * key cannot both pass). False when it changed meanwhile.
   */
  async recordUse(id: number, expectedCount: number, newCount: number): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(`UPDATE user_passkeys SET sign_count = ?, last_used_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND sign_count = ?`, [
      newCount,
      id,
      expectedCount,
    ]);
    return result.affectedRows === 1;
  }

  async delete(userId: number, id: number): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(`DELETE FROM user_passkeys WHERE id = ? AND user_id = ?`, [id, userId]);
    return result.affectedRows === 1;
  }
}
