import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The columns of `users` the services read. */
export interface UserRow {
  id: number;
  global_id: string;
  name: string;
  image: string | null;
  region: string;
  password_hash: string;
}

/** The SQL of `users` (typed raw SQL, no entity). */
@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  /** Inserts the user in the caller's transaction; returns its id. */
  async insert(m: EntityManager, user: { globalId: string; name: string; region: string; image: string | null; passwordHash: string }): Promise<number> {
    const result: { insertId: number | string } = await m.query(`INSERT INTO users (global_id, name, image, region, password_hash) VALUES (?, ?, ?, ?, ?)`, [
      user.globalId,
      user.name,
      user.image,
      user.region,
      user.passwordHash,
    ]);
    return Number(result.insertId);
  }

  async find(userId: number): Promise<UserRow | null> {
    const [row]: UserRow[] = await this.db.query(`SELECT id, global_id, name, image, region, password_hash FROM users WHERE id = ?`, [userId]);
    return row ? { ...row, id: Number(row.id) } : null;
  }

  async setPasswordHash(userId: number, passwordHash: string): Promise<void> {
    await this.db.query(`UPDATE users SET password_hash = ? WHERE id = ?`, [passwordHash, userId]);
  }

  async setPasswordHashIn(m: EntityManager, userId: number, passwordHash: string): Promise<void> {
    await m.query(`UPDATE users SET password_hash = ? WHERE id = ?`, [passwordHash, userId]);
  }

  /** The user's current name, the row locked; null for an unknown user. */
  async lockName(m: EntityManager, userId: number): Promise<string | null> {
    const [row]: { name: string }[] = await m.query(`SELECT name FROM users WHERE id = ? FOR UPDATE`, [userId]);
    return row ? row.name : null;
  }

  async updateProfile(m: EntityManager, userId: number, profile: { name: string; image: string | null; region: string }): Promise<void> {
    await m.query(`UPDATE users SET name = ?, image = ?, region = ? WHERE id = ?`, [profile.name, profile.image, profile.region, userId]);
  }

  /** Linked addresses, pending links, connections' tokens go by FK cascade. */
  async delete(m: EntityManager, userId: number): Promise<void> {
    await m.query(`DELETE FROM users WHERE id = ?`, [userId]);
  }
}
