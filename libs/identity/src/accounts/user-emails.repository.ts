import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A row of `user_emails`; `linked`: the sign-up address, or one whose emailed link was followed. */
export interface UserEmailRow {
  id: number | string;
  user_id: number | string;
  email: string;
  linked: number;
  is_primary: number;
  /** Set once a link mailed to the address was followed (or a reset sent to it completed). */
  confirmed_at?: Date | null;
}

/** The SQL of `user_emails` (typed raw SQL, no entity). */
@Injectable()
export class UserEmailsRepository {
  constructor(private readonly db: DataSource) {}

  /** Whether any row (linked or not) holds the address. */
  async exists(email: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM user_emails WHERE email = ? LIMIT 1`, [email]);
    return rows.length > 0;
  }

  /** The sign-up address: linked and primary from the start (confirmed_at stays empty). */
  async insertSignUp(m: EntityManager, userId: number, email: string): Promise<void> {
    await m.query(`INSERT INTO user_emails (user_id, email, linked, is_primary) VALUES (?, ?, 1, 1)`, [userId, email]);
  }

  /** Every address row of the user, primary first. */
  async allOfUser(userId: number): Promise<UserEmailRow[]> {
    return this.db.query(`SELECT id, user_id, email, linked, is_primary, confirmed_at FROM user_emails WHERE user_id = ? ORDER BY is_primary DESC, id ASC`, [userId]);
  }

  async primary(userId: number): Promise<string | null> {
    const [row]: { email: string }[] = await this.db.query(`SELECT email FROM user_emails WHERE user_id = ? AND is_primary = 1 LIMIT 1`, [userId]);
    return row?.email ?? null;
  }

  async findByEmail(email: string): Promise<UserEmailRow | null> {
    const [row]: UserEmailRow[] = await this.db.query(`SELECT id, user_id, email, linked, is_primary FROM user_emails WHERE email = ? LIMIT 1`, [email]);
    return row ?? null;
  }

  /** The user's linked addresses, primary first. */
  async linked(userId: number): Promise<{ email: string; is_primary: number }[]> {
    return this.db.query(`SELECT email, is_primary FROM user_emails WHERE user_id = ? AND (linked = 1 OR is_primary = 1) ORDER BY is_primary DESC, id`, [userId]);
  }

  /** The user the address is linked to, if any. */
  async linkedOwner(email: string): Promise<number | null> {
    const [owner]: { user_id: number | string }[] = await this.db.query(`SELECT user_id FROM user_emails WHERE email = ? AND (linked = 1 OR is_primary = 1)`, [email]);
    return owner ? Number(owner.user_id) : null;
  }

  /** The address when it is the user's and confirmed (normalised already), else null: the only addresses an app may receive. */
  async findConfirmed(m: EntityManager, userId: number, email: string): Promise<string | null> {
    const [row]: { email: string }[] = await m.query(`SELECT email FROM user_emails WHERE user_id = ? AND email = ? AND confirmed_at IS NOT NULL`, [userId, email]);
    return row ? row.email : null;
  }

  /** The primary address and whether it is confirmed. */
  async primaryState(userId: number): Promise<{ email: string; confirmed: boolean } | null> {
    const [row]: { email: string; confirmed_at: Date | null }[] = await this.db.query(`SELECT email, confirmed_at FROM user_emails WHERE user_id = ? AND is_primary = 1 LIMIT 1`, [
      userId,
    ]);
    return row ? { email: row.email, confirmed: row.confirmed_at !== null } : null;
  }

  async lockByEmail(m: EntityManager, email: string): Promise<UserEmailRow | null> {
    const [row]: UserEmailRow[] = await m.query(`SELECT id, user_id, linked FROM user_emails WHERE email = ? FOR UPDATE`, [email]);
    return row ?? null;
  }

  async lockAllOfUser(m: EntityManager, userId: number): Promise<UserEmailRow[]> {
    return m.query(`SELECT id, email, is_primary, linked FROM user_emails WHERE user_id = ? FOR UPDATE`, [userId]);
  }

  /** The address is linked, and confirmed by its emailed link now. */
  async confirm(m: EntityManager, id: number | string): Promise<void> {
    await m.query(`UPDATE user_emails SET linked = 1, confirmed_at = UTC_TIMESTAMP(3) WHERE id = ?`, [id]);
  }

  async insertConfirmed(m: EntityManager, userId: number, email: string): Promise<void> {
    await m.query(`INSERT INTO user_emails (user_id, email, linked, confirmed_at, is_primary) VALUES (?, ?, 1, UTC_TIMESTAMP(3), 0)`, [userId, email]);
  }

  async delete(m: EntityManager, id: number | string): Promise<void> {
    await m.query(`DELETE FROM user_emails WHERE id = ?`, [id]);
  }

  async setPrimary(m: EntityManager, userId: number, id: number | string): Promise<void> {
    await m.query(`UPDATE user_emails SET is_primary = (id = ?) WHERE user_id = ?`, [id, userId]);
  }
}
