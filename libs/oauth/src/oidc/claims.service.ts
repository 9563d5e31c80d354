import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ClaimsRow, ConnectionsRepository } from '@app/connections';
import { TokenProfile, TokensService } from '../tokens.service';

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
    private readonly connections: ConnectionsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
  ) {}

  /** From the profile the token lookups cached while nothing changed (a returning user's exchange), else one query. */
  async forConnection(connectionId: string, scopes: string[]): Promise<UserClaims | null> {
    const row = (await this.tokens.cachedProfile(connectionId)) ?? (await this.connections.claimsSource(connectionId));
    return row && this.build(row, scopes);
  }

  /** The same claims from a live access token's lookup (userinfo: no query while nothing changed). */
  forToken(profile: TokenProfile): UserClaims {
    const { connectionId: id, email: shared_email, relayLocal: relay_local, globalId: global_id, name, image, linkedVerified } = profile;
    return this.build({ id, shared_email, relay_local, global_id, name, image, linked_verified: linkedVerified ? 1 : 0 }, profile.scopes);
  }

  private build(row: ClaimsRow, scopes: string[]): UserClaims {
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
