import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The developer's user list at 1M connections (measured by bench/users-list):
 * - the search indexes also hold the status and the sort key, so a search
 *   (and its count) reads only index entries, never one row per match
 *   (a common first name matches tens of thousands of users);
 * - ix_connections_blocked lists blocked users in (joined_at, id) order:
 *   in ix_connections_status `active` sits between, which forced a sort of
 *   every blocked row.
 */
export class UserListIndexes1764300000000 implements MigrationInterface {
  name = 'UserListIndexes1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections
      DROP KEY ix_connections_search_gid,
      DROP KEY ix_connections_search_name,
      DROP KEY ix_connections_search_email,
      ADD KEY ix_connections_search_gid (application_id, user_global_id, blocked, active, joined_at),
      ADD KEY ix_connections_search_name (application_id, user_name, blocked, active, joined_at),
      ADD KEY ix_connections_search_email (application_id, shared_email, blocked, active, joined_at),
      ADD KEY ix_connections_blocked (application_id, blocked, joined_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections
      DROP KEY ix_connections_blocked,
      DROP KEY ix_connections_search_gid,
      DROP KEY ix_connections_search_name,
      DROP KEY ix_connections_search_email,
      ADD KEY ix_connections_search_gid (application_id, user_global_id),
      ADD KEY ix_connections_search_name (application_id, user_name),
      ADD KEY ix_connections_search_email (application_id, shared_email)`);
  }
}
