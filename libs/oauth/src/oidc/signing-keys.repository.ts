import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A new key: its public JWK (JSON) and its sealed private key. */
export interface NewSigningKey {
  kid: string;
  alg: string;
  jwk: string;
  sealed: string;
}

/** The SQL of `signing_keys` (typed raw SQL, no entity). */
@Injectable()
export class SigningKeysRepository {
  constructor(private readonly db: DataSource) {}

  async insert(key: NewSigningKey, m: EntityManager = this.db.manager): Promise<void> {
    await m.query(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc) VALUES (?, ?, ?, ?)`, [key.kid, key.alg, key.jwk, key.sealed]);
  }

  /** Marks `kid` rotated if it still is the active key; false when another process did first. */
  async rotateIfActive(m: EntityManager, kid: string): Promise<boolean> {
    const won: { affectedRows: number } = await m.query(`UPDATE signing_keys SET rotated_at = UTC_TIMESTAMP(3) WHERE kid = ? AND rotated_at IS NULL`, [kid]);
    return won.affectedRows === 1;
  }

  async rotateAllActive(m: EntityManager): Promise<void> {
    await m.query(`UPDATE signing_keys SET rotated_at = UTC_TIMESTAMP(3) WHERE rotated_at IS NULL`);
  }

  /** Deletes keys rotated longer ago than `seconds` (their private parts with them). */
  async deleteRotatedBefore(m: EntityManager, seconds: number): Promise<void> {
    await m.query(`DELETE FROM signing_keys WHERE rotated_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND`, [seconds]);
  }

  /** The newest active key of `alg` and its age in seconds (database clock). */
  async newestActive(alg: string): Promise<{ kid: string; private_key_enc: string; age: number | string } | null> {
    const [row]: { kid: string; private_key_enc: string; age: number | string }[] = await this.db.query(
      `SELECT kid, private_key_enc, TIMESTAMPDIFF(SECOND, created_at, UTC_TIMESTAMP(3)) AS age
       FROM signing_keys WHERE rotated_at IS NULL AND alg = ? ORDER BY created_at DESC, kid DESC LIMIT 1`,
      [alg],
    );
    return row ?? null;
  }

  /** Active keys and keys rotated less than `seconds` ago, newest first. */
  async published(seconds: number): Promise<{ kid: string; alg: string; public_jwk: string }[]> {
    return this.db.query(
      `SELECT kid, alg, public_jwk FROM signing_keys
       WHERE rotated_at IS NULL OR rotated_at > UTC_TIMESTAMP(3) - INTERVAL ? SECOND
       ORDER BY created_at DESC, kid DESC`,
      [seconds],
    );
  }
}
