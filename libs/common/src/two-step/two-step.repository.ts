import { DataSource } from 'typeorm';
import { retryOnDeadlock } from '../deadlock';
import type { TwoStepStore } from './two-step-core';

export interface TotpRow {
  secret_enc: string;
  confirmed_at: Date | null;
  last_step: number | string | null;
}

/**
 * The tables of one kind of account's two-step sign-in, owned by that kind's
 * lib: a TOTP table (`<subject> PRIMARY KEY, secret_enc, confirmed_at,
 * last_step`) and a recovery-code table (`<subject>, code_hash, used_at`).
 */
export interface TwoStepTables {
  totp: string;
  recoveryCodes: string;
  /** The account column of both tables (`user_id`, `developer_id`). */
  subject: string;
}

/**
 * The SQL of two-step sign-in over one kind of account's tables. Each lib
 * that owns such tables extends it with its own names (the table names are
 * fixed constants of the subclass, never input).
 */
export abstract class TwoStepTablesRepository implements TwoStepStore {
  protected constructor(
    private readonly db: DataSource,
    private readonly tables: TwoStepTables,
  ) {}

  async findTotp(subjectId: number): Promise<TotpRow | null> {
    const { totp, subject } = this.tables;
    const [row]: TotpRow[] = await this.db.query(`SELECT secret_enc, confirmed_at, last_step FROM ${totp} WHERE ${subject} = ?`, [subjectId]);
    return row ?? null;
  }

  /** A pending (unconfirmed) secret replaces an older pending one; a confirmed one is never overwritten. */
  async savePending(subjectId: number, secretEnc: string): Promise<void> {
    const { totp, subject } = this.tables;
    await this.db.query(
      `INSERT INTO ${totp} (${subject}, secret_enc) VALUES (?, ?)
       ON DUPLICATE KEY UPDATE secret_enc = IF(confirmed_at IS NULL, VALUES(secret_enc), secret_enc)`,
      [subjectId, secretEnc],
    );
  }

  /** Turns the pending secret on (once) with its first accepted step and stores the recovery code hashes. */
  async confirm(subjectId: number, secretEnc: string, step: number, recoveryHashes: string[]): Promise<boolean> {
    const { totp, recoveryCodes, subject } = this.tables;
    // Concurrent confirmations of different accounts can deadlock on the recovery codes' index gaps: the
    // transaction is rolled back whole by the database, so it is run again.
    return retryOnDeadlock(() =>
      this.db.transaction(async (m) => {
        const result: { affectedRows: number } = await m.query(
          `UPDATE ${totp} SET confirmed_at = CURRENT_TIMESTAMP(3), last_step = ? WHERE ${subject} = ? AND confirmed_at IS NULL AND secret_enc = ?`,
          [step, subjectId, secretEnc],
        );
        if (result.affectedRows !== 1) return false;
        await m.query(`DELETE FROM ${recoveryCodes} WHERE ${subject} = ?`, [subjectId]);
        await m.query(
          `INSERT INTO ${recoveryCodes} (${subject}, code_hash) VALUES ${recoveryHashes.map(() => '(?, ?)').join(', ')}`,
          recoveryHashes.flatMap((h) => [subjectId, h]),
        );
        return true;
      }),
    );
  }

  /** Records `step` as used, atomically: false when it (or a later step) was already used. */
  async useStep(subjectId: number, step: number): Promise<boolean> {
    const { totp, subject } = this.tables;
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE ${totp} SET last_step = ? WHERE ${subject} = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)`,
      [step, subjectId, step],
    );
    return result.affectedRows === 1;
  }

  /** Marks an unused recovery code used, atomically: false when unknown or already used. */
  async useRecoveryCode(subjectId: number, hash: string): Promise<boolean> {
    const { recoveryCodes, subject } = this.tables;
    const result: { affectedRows: number } = await this.db.query(
      `UPDATE ${recoveryCodes} SET used_at = CURRENT_TIMESTAMP(3) WHERE ${subject} = ? AND code_hash = ? AND used_at IS NULL`,
      [subjectId, hash],
    );
    return result.affectedRows === 1;
  }

  async countUnusedRecoveryCodes(subjectId: number): Promise<number> {
    const { recoveryCodes, subject } = this.tables;
    const [row]: { n: number | string }[] = await this.db.query(`SELECT COUNT(*) AS n FROM ${recoveryCodes} WHERE ${subject} = ? AND used_at IS NULL`, [subjectId]);
    return Number(row?.n ?? 0);
  }

  async deleteAll(subjectId: number): Promise<void> {
    const { totp, recoveryCodes, subject } = this.tables;
    await retryOnDeadlock(() =>
      this.db.transaction(async (m) => {
        await m.query(`DELETE FROM ${recoveryCodes} WHERE ${subject} = ?`, [subjectId]);
        await m.query(`DELETE FROM ${totp} WHERE ${subject} = ?`, [subjectId]);
      }),
    );
  }
}
