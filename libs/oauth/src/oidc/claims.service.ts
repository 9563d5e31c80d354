import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';

/** OpenID Connect standard claims of one connection, as its granted scopes allow. */
export interface UserClaims {
  sub: string;
  global_id: string;
  name?: string;
  picture?: string;
  email?: string;
  email_verified?: boolean;
}

/**
 * The claims an app may see about its user: `sub` is the connection id (a
 * pairwise subject: each app sees a different, unrelated id), `global_id` the
 * user's Global ID; `name`/`picture` with `profile`; `email`/`email_verified`
 * with `email` when an address is shared.
 *
 * email_verified rule: true when the shared address is the connection's relay
 * address (LoginSign delivers it to the user's verified mailbox) or a linked
 * address of the user whose verification link was followed; false otherwise.
 */
@Injectable()
export class ClaimsService {
  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async forConnection(connectionId: string, scopes: string[]): Promise<UserClaims | null> {
    const [row] = await this.db.query<
      { id: string; shared_email: string | null; relay_local: string; global_id: string; name: string; image: string | null; linked_verified: number }[]
    >(
      `SELECT c.id, c.shared_email, c.relay_local, u.global_id, u.name, u.image,
         EXISTS(SELECT 1 FROM user_emails e WHERE e.user_id = c.user_id AND e.email = c.shared_email AND e.confirmed_at IS NOT NULL) AS linked_verified
       FROM connections c JOIN users u ON u.id = c.user_id WHERE c.id = ?`,
      [connectionId],
    );
    if (!row) return null;
    const claims: UserClaims = { sub: row.id, global_id: row.global_id };
    if (scopes.includes('profile')) {
      claims.name = row.name;
      if (row.image) claims.picture = row.image;
    }
    if (scopes.includes('email') && row.shared_email) {
      const relay = `${row.relay_local}@${this.config.relayDomain}`;
      claims.email = row.shared_email;
      claims.email_verified = row.shared_email === relay || Number(row.linked_verified) === 1;
    }
    return claims;
  }
}
