import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

/** The SQL of `access_tokens` and `refresh_tokens` (typed raw SQL, no entities). */
@Injectable()
export class TokensRepository {
  constructor(private readonly db: DataSource) {}

  /** Every live access token and refresh token of a connection marked revoked, in the caller's transaction. */
  async revokeByConnection(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
    await m.query(`UPDATE refresh_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
  }

  /** One batch of housekeeping: access tokens past their expiry (revoked or not: a revoked token is only kept until it would have expired anyway). */
  async purgeExpiredAccessTokens(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM access_tokens WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }

  /** One batch of housekeeping: refresh tokens past their family's absolute expiry (used ones are kept until then: replay detection). */
  async purgeExpiredRefreshTokens(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM refresh_tokens WHERE family_expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }
}
