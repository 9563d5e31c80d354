import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** The raw SQL of `users` (sign-up, login and the profile reads use UserEntity). */
@Injectable()
export class UsersRepository {
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
