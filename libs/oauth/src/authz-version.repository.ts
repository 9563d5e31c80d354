import { DataSource } from 'typeorm';

/** The SQL of `authz_version` (one row, moved by triggers on every change that can affect a token lookup). */
export class AuthzVersionRepository {
  constructor(private readonly db: Pick<DataSource, 'query'>) {}

  async read(): Promise<number> {
    const rows: { version: string | number }[] = await this.db.query('SELECT version FROM authz_version WHERE id = 1');
    return Number(rows[0].version);
  }
}
