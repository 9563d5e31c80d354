import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

/** The SQL of `email_verifications` (typed raw SQL, no entity). */
@Injectable()
export class EmailVerificationsRepository {
  constructor(private readonly db: DataSource) {}

  /** One batch of housekeeping: expired links. */
  async purgeExpired(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM email_verifications WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }
}
