import { MigrationInterface, QueryRunner } from 'typeorm';

const BUMP = 'UPDATE authz_version SET version = version + 1 WHERE id = 1';

/**
 * One counter that moves whenever anything `/api/user` answers from could
 * change: a token revoked, a connection blocked, deactivated, re-shared or
 * deleted, a user renamed or deleted. Triggers keep it, so no code path can
 * forget to: the API caches token lookups and re-checks only this counter
 * (see libs/oauth/src/token-cache.ts). Cascaded deletes do not fire
 * triggers, hence the triggers on every parent table too.
 */
export class AuthzVersion1764330000000 implements MigrationInterface {
  name = 'AuthzVersion1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE authz_version (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, version BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB`);
    await q.query(`INSERT INTO authz_version (id, version) VALUES (1, 0)`);
    await q.query(`CREATE TRIGGER trg_authz_access_tokens_update AFTER UPDATE ON access_tokens FOR EACH ROW
      BEGIN
        IF NOT (NEW.revoked <=> OLD.revoked AND NEW.expires_at <=> OLD.expires_at AND NEW.connection_id <=> OLD.connection_id) THEN ${BUMP}; END IF;
      END`);
    await q.query(`CREATE TRIGGER trg_authz_access_tokens_delete AFTER DELETE ON access_tokens FOR EACH ROW ${BUMP}`);
    await q.query(`CREATE TRIGGER trg_authz_connections_update AFTER UPDATE ON connections FOR EACH ROW
      BEGIN
        IF NOT (NEW.blocked <=> OLD.blocked AND NEW.active <=> OLD.active AND NEW.shared_email <=> OLD.shared_email
                AND NEW.user_id <=> OLD.user_id AND NEW.application_id <=> OLD.application_id) THEN ${BUMP}; END IF;
      END`);
    await q.query(`CREATE TRIGGER trg_authz_connections_delete AFTER DELETE ON connections FOR EACH ROW ${BUMP}`);
    await q.query(`CREATE TRIGGER trg_authz_users_update AFTER UPDATE ON users FOR EACH ROW
      BEGIN
        IF NOT (NEW.name <=> OLD.name AND NEW.image <=> OLD.image AND NEW.global_id <=> OLD.global_id) THEN ${BUMP}; END IF;
      END`);
    await q.query(`CREATE TRIGGER trg_authz_users_delete AFTER DELETE ON users FOR EACH ROW ${BUMP}`);
    await q.query(`CREATE TRIGGER trg_authz_applications_delete AFTER DELETE ON applications FOR EACH ROW ${BUMP}`);
    await q.query(`CREATE TRIGGER trg_authz_developers_delete AFTER DELETE ON developers FOR EACH ROW ${BUMP}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'trg_authz_access_tokens_update',
      'trg_authz_access_tokens_delete',
      'trg_authz_connections_update',
      'trg_authz_connections_delete',
      'trg_authz_users_update',
      'trg_authz_users_delete',
      'trg_authz_applications_delete',
      'trg_authz_developers_delete',
    ]) {
      await q.query(`DROP TRIGGER IF EXISTS ${t}`);
    }
    await q.query(`DROP TABLE IF EXISTS authz_version`);
  }
}
