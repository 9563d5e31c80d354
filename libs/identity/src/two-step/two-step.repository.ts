import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TwoStepStore } from '@app/common';

export interface TotpRow {
  secret_enc: string;
  confirmed_at: Date | null;
  last_step: number | string | null;
}

/** The SQL of `user_totp` and `user_recovery_codes`. */
@Injectable()
export class TwoStepRepository implements TwoStepStore {
  constructor(private readonly db: DataSource) {}

  async findTotp(userId: number): Promise<TotpRow | null> {
    const [row]: TotpRow[] = await this.db.query(`SELECT secret_enc, confirmed_at, last_step FROM user_totp WHERE user_id = ?`, [userId]);
    return row ?? null;
  }

  /** A pending (unconfirmed) secret replaces an older pending one; a confirmed one is never overwritten. */
  async savePending(userId: number, secretEnc: string): Promise<void> {
    await this.db.query(
      `INSERT INTO user_totp (user_id, secret_enc) VALUES (?, ?)
       ON DUPLICATE KEY UPDATE secret_enc = IF(confirmed_at IS NULL, VALUES(secret_enc), secret_enc)`,
      [userId, secretEnc],
    );
  }

  /** Turns the pending secret on (once) with its first accepted step and stores the recovery code hashes. */
  async confirm(userId: number, secretEnc: string, step: number, recoveryHashes: string[]): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const result: { affectedRows: number } = await m.query(
        `UPDATE user_totp SET confirmed_at = CURRENT_TIMESTAMP(3), last_step = ? WHERE user_id = ? AND confirmed_at IS NULL AND secret_enc = ?`,
        [step, userId, secretEnc],
      );
      if (result.affectedRows !== 1) return false;
      await m.query(`DELETE FROM user_recovery_codes WHERE user_id = ?`, [userId]);
      await m.query(
        `INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ${recoveryHashes.map(() => '(?, ?)').join(', ')}`,
        recoveryHashes.flatMap((h) => [userId, h]),
      );
      return true;
    });
  }

  /** Records `step` as used, atomically: false when it (or a later step) was already used. */
  async useStep(userId: number, step: number): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE user_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)`,
      [step, userId, step],
    );
    return result.affectedRows === 1;
  }

  /** Marks an unused recovery code used, atomically: false when unknown or already used. */
  async useRecoveryCode(userId: number, hash: string): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE user_recovery_codes SET used_at = CURRENT_TIMESTAMP(3) WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
      [userId, hash],
    );
    return result.affectedRows === 1;
  }

  async countUnusedRecoveryCodes(userId: number): Promise<number> {
    const [row]: { n: number | string }[] = await this.db.query(`SELECT COUNT(*) AS n FROM user_recovery_codes WHERE user_id = ? AND used_at IS NULL`, [userId]);
    return Number(row?.n ?? 0);
  }

  async deleteAll(userId: number): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM user_recovery_codes WHERE user_id = ?`, [userId]);
      await m.query(`DELETE FROM user_totp WHERE user_id = ?`, [userId]);
    });
  }
}
