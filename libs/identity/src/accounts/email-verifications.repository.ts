import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

/** A live link, read under lock. */
export interface VerificationRow {
  id: number | string;
  user_id: number | string;
  email: string;
}

/** The SQL of `email_verifications` (typed raw SQL, no entity). */
@Injectable()
export class EmailVerificationsRepository {
  constructor(private readonly db: DataSource) {}

  /** The user's addresses waiting for their link, with the latest expiry of each. */
  async pending(userId: number): Promise<{ email: string; expires_at: Date }[]> {
    return this.db.query(
      `SELECT email, MAX(expires_at) AS expires_at FROM email_verifications
       WHERE user_id = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3) GROUP BY email ORDER BY MIN(id)`,
      [userId],
    );
  }

  async insert(m: EntityManager, userId: number, email: string, tokenHash: Buffer, ttlSeconds: number): Promise<void> {
    await m.query(`INSERT INTO email_verifications (user_id, email, token_hash, expires_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)`, [
      userId,
      email,
      tokenHash,
      ttlSeconds,
    ]);
  }

  /** The account and address of a live link; null when the link is unusable. */
  async peek(tokenHash: Buffer): Promise<{ user_id: number | string; email: string } | null> {
    const [row]: { user_id: number | string; email: string }[] = await this.db.query(
      `SELECT user_id, email FROM email_verifications WHERE token_hash = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)`,
      [tokenHash],
    );
    return row ?? null;
  }

  async lockLive(m: EntityManager, tokenHash: Buffer): Promise<VerificationRow | null> {
    const [row]: VerificationRow[] = await m.query(
      `SELECT id, user_id, email FROM email_verifications WHERE token_hash = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3) FOR UPDATE`,
      [tokenHash],
    );
    return row ?? null;
  }

  /** Single use: false when the link was used meanwhile. */
  async markUsed(m: EntityManager, id: number | string): Promise<boolean> {
    return affected(await m.query(`UPDATE email_verifications SET used_at = UTC_TIMESTAMP(3) WHERE id = ? AND used_at IS NULL`, [id])) === 1;
  }

  /** Ends the live links of one pending address; returns how many there were. */
  async expirePending(m: EntityManager, userId: number, email: string): Promise<number> {
    return affected(
      await m.query(`UPDATE email_verifications SET expires_at = UTC_TIMESTAMP(3) WHERE user_id = ? AND email = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)`, [
        userId,
        email,
      ]),
    );
  }

  /** One batch of housekeeping: expired links. */
  async purgeExpired(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM email_verifications WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }
}
