import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ConnectionGrantRevoker, ConnectionStateService } from '@app/connections';
import { TokensRepository } from '../tokens.repository';

/**
 * Ends what was granted to an application: the one place token revocation
 * of a connection happens (consent revocation and blocking through
 * ConnectionStateService; deletion ends the tokens by FK cascade).
 */
@Injectable()
export class GrantsService implements ConnectionGrantRevoker {
  constructor(
    private readonly tokens: TokensRepository,
    state: ConnectionStateService,
  ) {
    state.useGrantRevoker(this);
  }

  /** Every access token and refresh token family of the connection, in the caller's transaction; none is revived later. */
  async revoke(m: EntityManager, target: { connectionId: string }): Promise<void> {
    await this.tokens.revokeByConnection(m, target.connectionId);
  }

  revokeConnection(m: EntityManager, connectionId: string): Promise<void> {
    return this.revoke(m, { connectionId });
  }
}
