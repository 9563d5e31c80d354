import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** The SQL of `access_tokens` and `refresh_tokens` (typed raw SQL, no entities). */
@Injectable()
export class TokensRepository {
  /** Every live access token and refresh token of a connection marked revoked, in the caller's transaction. */
  async revokeByConnection(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
    await m.query(`UPDATE refresh_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
  }
}
