import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TwoStepStore } from '@app/common';

export interface DeveloperTotpRow {
  secret_enc: string;
  confirmed_at: Date | null;
  last_step: number | string | null;
}

/** The SQL of `developer_totp` and `developer_recovery_codes` (developers' two-step sign-in; the rules are TwoStepCore's). */
@Injectable()
export class DeveloperTwoStepRepository implements TwoStepStore {
  constructor(private readonly db: DataSource) {}

  async findTotp(developerId: number): Promise<DeveloperTotpRow | null> {
    const [row]: DeveloperTotpRow[] = await this.db.query(`SELECT secret_enc, confirmed_at, last_step FROM developer_totp WHERE developer_id = ?`, [developerId]);
    return row ?? null;
  }

  /** A pending (unconfirmed) secret replaces an older pending one; a confirmed one is never overwritten. */
  async savePending(developerId: number, secretEnc: string): Promise<void> {
    await this.db.query(
      `INSERT INTO developer_totp (developer_id, secret_enc) VALUES (?, ?)
       ON DUPLICATE KEY UPDATE secret_enc = IF(confirmed_at IS NULL, VALUES(secret_enc), secret_enc)`,
      [developerId, secretEnc],
    );
  }

  /** Turns the pending secret on (once) with its first accepted step and stores the recovery code hashes. */
  async confirm(developerId: number, secretEnc: string, step: number, recoveryHashes: string[]): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const result: { affectedRows: number } = await m.query(
        `UPDATE developer_totp SET confirmed_at = CURRENT_TIMESTAMP(3), last_step = ? WHERE developer_id = ? AND confirmed_at IS NULL AND secret_enc = ?`,
        [step, developerId, secretEnc],
      );
      if (result.affectedRows !== 1) return false;
      await m.query(`DELETE FROM developer_recovery_codes WHERE developer_id = ?`, [developerId]);
      await m.query(
        `INSERT INTO developer_recovery_codes (developer_id, code_hash) VALUES ${recoveryHashes.map(() => '(?, ?)').join(', ')}`,
        recoveryHashes.flatMap((h) => [developerId, h]),
      );
      return true;
    });
  }

  /** Records `step` as used, atomically: false when it (or a later step) was already used. */
  async useStep(developerId: number, step: number): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE developer_totp SET last_step = ? WHERE developer_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)`,
      [step, developerId, step],
    );
    return result.affectedRows === 1;
  }

  /** Marks an unused recovery code used, atomically: false when unknown or already used. */
  async useRecoveryCode(developerId: number, hash: string): Promise<boolean> {
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE developer_recovery_codes SET used_at = CURRENT_TIMESTAMP(3) WHERE developer_id = ? AND code_hash = ? AND used_at IS NULL`,
      [developerId, hash],
    );
    return result.affectedRows === 1;
  }

  async countUnusedRecoveryCodes(developerId: number): Promise<number> {
    const [row]: { n: number | string }[] = await this.db.query(`SELECT COUNT(*) AS n FROM developer_recovery_codes WHERE developer_id = ? AND used_at IS NULL`, [developerId]);
    return Number(row?.n ?? 0);
  }

  async deleteAll(developerId: number): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(`DELETE FROM developer_recovery_codes WHERE developer_id = ?`, [developerId]);
      await m.query(`DELETE FROM developer_totp WHERE developer_id = ?`, [developerId]);
    });
  }
}
