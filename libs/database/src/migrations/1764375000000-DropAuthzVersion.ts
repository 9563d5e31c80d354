import { MigrationInterface, QueryRunner } from 'typeorm';
import { AuthzVersion1764330000000 } from './1764330000000-AuthzVersion';

const TRIGGERS = [
  'trg_authz_access_tokens_update',
  'trg_authz_access_tokens_delete',
  'trg_authz_connections_update',
  'trg_authz_connections_delete',
  'trg_authz_users_update',
  'trg_authz_users_delete',
  'trg_authz_applications_delete',
  'trg_authz_developers_delete',
];

/**
 * The global `authz_version` row and its triggers go: every write bumped one
 * row (a hot row, a deadlock source on multi-writer clusters), and TiDB and
 * PlanetScale refuse triggers. Token lookups now follow per-user and
 * per-application change signals in Redis (AccessChangeSignals).
 */
export class DropAuthzVersion1764375000000 implements MigrationInterface {
  name = 'DropAuthzVersion1764375000000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of TRIGGERS) await q.query(`DROP TRIGGER IF EXISTS ${t}`);
    await q.query(`DROP TABLE IF EXISTS authz_version`);
  }

  async down(q: QueryRunner): Promise<void> {
    await new AuthzVersion1764330000000().up(q);
  }
}
