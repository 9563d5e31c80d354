import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A developer account as stored in `developers` (the email normalised). */
export interface StoredDeveloper {
  id: number;
  name: string;
  email: string;
  passwordHash: string;
  createdAt: Date;
}

interface DeveloperRow {
  id: number | string;
  name: string;
  email: string;
  password_hash: string;
  created_at: Date;
}

const toStored = (r: DeveloperRow): StoredDeveloper => ({ id: Number(r.id), name: r.name, email: r.email, passwordHash: r.password_hash, createdAt: r.created_at });

/** The SQL of `developers` (typed raw SQL, no entity). */
@Injectable()
export class DevelopersRepository {
  constructor(private readonly db: DataSource) {}

  async existsByEmail(email: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM developers WHERE email = ? LIMIT 1`, [email]);
    return rows.length > 0;
  }

  /** Inserts the account; returns its id. */
  async insert(d: Omit<StoredDeveloper, 'id'>): Promise<number> {
    const result: { insertId: number | string } = await this.db.query(`INSERT INTO developers (name, email, password_hash, created_at) VALUES (?, ?, ?, ?)`, [
      d.name,
      d.email,
      d.passwordHash,
      d.createdAt,
    ]);
    return Number(result.insertId);
  }

  async findByEmail(email: string): Promise<StoredDeveloper | null> {
    const [row]: DeveloperRow[] = await this.db.query(`SELECT id, name, email, password_hash, created_at FROM developers WHERE email = ?`, [email]);
    return row ? toStored(row) : null;
  }

  async setPasswordHash(id: number, passwordHash: string): Promise<boolean> {
    const result: { affectedRows?: number } = await this.db.query(`UPDATE developers SET password_hash = ? WHERE id = ?`, [passwordHash, id]);
    return Number(result.affectedRows ?? 0) === 1;
  }

  async findById(id: number): Promise<StoredDeveloper | null> {
    const [row]: DeveloperRow[] = await this.db.query(`SELECT id, name, email, password_hash, created_at FROM developers WHERE id = ?`, [id]);
    return row ? toStored(row) : null;
  }
}
