import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { EntityManager } from 'typeorm';
import { AccessChangeSignals, REDIS, retryOnDeadlock } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ConnectionGrantRevoker, ConnectionStateService } from '@app/connections';
import { AccountGrantRevoker, PasswordResetService } from '@app/identity';
import { TokensRepository } from '../tokens.repository';

/**
 * What to end:
 * - `connectionId`: every access token and refresh token family of a
 *   connection, in the caller's transaction (consent revocation, blocking);
 * - `grantId`: everything issued from one authorization code (a replayed
 *   code), including tokens an exchange racing the replay is about to write;
 * - `familyId`: one refresh token family and its access tokens (a refresh
 *   token used twice, revoked by its client, or of a connection that ended).
 * Deleting a connection or a user ends its tokens by foreign-key cascade.
 */
export type GrantTarget = { connectionId: string; manager: EntityManager } | { grantId: string } | { familyId: string };

/** The one place grants end. Revocation is final: nothing revokes a revocation. */
@Injectable()
export class GrantsService implements ConnectionGrantRevoker, AccountGrantRevoker {
  constructor(
    private readonly tokens: TokensRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signals: AccessChangeSignals,
    state: ConnectionStateService,
    resets: PasswordResetService,
  ) {
    state.useGrantRevoker(this);
    resets.useGrantRevoker(this);
  }

  async revoke(target: GrantTarget): Promise<void> {
    if ('connectionId' in target) {
      const userId = await this.tokens.connectionUser(target.connectionId, target.manager);
      if (userId !== null) this.signals.userChanged(target.manager, userId);
      return this.tokens.revokeByConnection(target.manager, target.connectionId);
    }
    if ('grantId' in target) {
      // The marker outlives every token of the grant: an exchange that raced
      // the replay finds it after writing its rows and revokes them itself.
      const ttl = this.config.codeTtlSeconds + this.config.accessTokenTtlSeconds;
      await this.redis.set(`grant-revoked:${target.grantId}`, '1', 'EX', ttl);
      return this.revokeFamily(target.grantId);
    }
    return this.revokeFamily(target.familyId);
  }

  /** Whether the code of this grant was replayed (its marker is set). */
  async isRevoked(grantId: string): Promise<boolean> {
    return (await this.redis.exists(`grant-revoked:${grantId}`)) === 1;
  }

  revokeConnection(m: EntityManager, connectionId: string): Promise<void> {
    return this.revoke({ connectionId, manager: m });
  }

  /** Every token of every connection of a user (a completed password reset), in the caller's transaction. */
  revokeUser(m: EntityManager, userId: number): Promise<void> {
    this.signals.userChanged(m, userId);
    return this.tokens.revokeByUser(m, userId);
  }

  /** The family's refresh tokens and access tokens; retried on a deadlock (or lock wait timeout) with a concurrent rotation. */
  private async revokeFamily(familyId: string): Promise<void> {
    const users = await this.tokens.grantUsers(familyId);
    await this.signals.around({ users }, () => retryOnDeadlock(() => this.tokens.revokeFamily(familyId), { attempts: 4, orLockWaitTimeout: true }));
  }
}
