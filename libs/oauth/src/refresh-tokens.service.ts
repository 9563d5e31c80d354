import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, randomToken, retryOnDeadlock, sha256 } from '@app/common';
import { IssuedToken, TokensService } from './tokens.service';
import { isSubset } from './scopes';
import { NewRefreshToken, TokensRepository } from './tokens.repository';
import { GrantsService } from './grants/grants.service';

/** The scope that lets a client get refresh tokens. */
export const OFFLINE_ACCESS = 'offline_access';

/** A new family's first refresh token, before its id and hash exist. */
export type FamilyStart = Omit<NewRefreshToken, 'id' | 'tokenHash'>;

export interface Refreshed {
  access: IssuedToken;
  refreshToken: string;
  connectionId: string;
  authTime: number;
  amr?: string[];
  scopes: string[];
}

/** What introspection reports about a live refresh token. */
export interface RefreshTokenInfo {
  connectionId: string;
  scope: string;
  exp: number;
  iat: number;
}

class Replayed extends Error {}

const replayed = () => new AppError('invalid_grant', 'The refresh token has already been used; its whole family is now revoked.');

/**
 * Rotating refresh tokens (RFC 9700 4.14.2). Opaque 32 random bytes, stored as
 * SHA-256. Each use locks the token's row, marks it used and issues the next
 * token of the same family in one transaction, so concurrent uses of one
 * token run one after another. A use within REFRESH_TOKEN_REUSE_SECONDS of
 * the rotation (a lost response, two tabs refreshing at once) gets a new
 * token of the same family too, and the first successor stays valid; a later
 * one is a replay and revokes the whole family and its access tokens. A
 * family ends after REFRESH_TOKEN_IDLE_SECONDS without use, and
 * REFRESH_TOKEN_TTL_SECONDS after its start however often it rotates.
 * Blocking, deleting (FK cascade) or deactivating the connection ends it.
 */
@Injectable()
export class RefreshTokensService {
  constructor(
    private readonly db: DataSource,
    private readonly repository: TokensRepository,
    private readonly tokens: TokensService,
    private readonly grants: GrantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async insert(m: EntityManager, f: FamilyStart, familyExpiresAt: Date | null): Promise<string> {
    const token = randomToken(32);
    await this.repository.insertRefreshToken(
      m,
      {
        id: randomToken(16),
        tokenHash: sha256(token),
        familyId: f.familyId,
        connectionId: f.connectionId,
        applicationId: f.applicationId,
        scope: f.scope,
        authTime: f.authTime,
        amr: f.amr,
        dpopJkt: f.dpopJkt,
      },
      familyExpiresAt,
      this.config.refreshTokenTtlSeconds,
    );
    return token;
  }

  /** The first token of a family, after a code exchange that granted offline_access. */
  async startFamily(f: FamilyStart): Promise<string> {
    const token = await this.insert(this.db.manager, f, null);
    // A code replay that raced the exchange revoked the grant before this row existed.
    if (await this.grants.isRevoked(f.familyId)) await this.revokeFamily(f.familyId);
    return token;
  }

  /** Kills a family: every refresh token and every access token issued from it (GrantsService.revoke). */
  revokeFamily(familyId: string): Promise<void> {
    return this.grants.revoke({ familyId });
  }

  private async find(token: string) {
    if (typeof token !== 'string' || token.length < 20 || token.length > 100) return null;
    return this.repository.findRefreshToken(sha256(token), this.config.refreshTokenIdleSeconds, this.config.refreshTokenReuseSeconds);
  }

  /**
   * grant_type=refresh_token (RFC 6749 6): the next token pair, or invalid_grant / invalid_scope.
   * With a DPoP proof (`dpopJkt`) the access token is bound to its key; a family bound to a key (RFC 9449 5) needs a proof of that key.
   */
  async refresh(token: string, applicationId: string, clientId: string, requestedScopes: string[] | null, dpopJkt: string | null = null): Promise<Refreshed> {
    const row = await this.find(token);
    if (!row) throw new AppError('invalid_grant', 'The refresh token is invalid.');
    if (row.application_id !== applicationId) throw new AppError('invalid_grant', 'The refresh token was issued to another client.');
    if (Number(row.revoked)) throw new AppError('invalid_grant', 'The refresh token has been revoked.');
    if (Number(row.used) && !Number(row.reusable)) {
      await this.revokeFamily(row.family_id);
      throw replayed();
    }
    if (!Number(row.live)) throw new AppError('invalid_grant', 'The refresh token has expired.');
    if (Number(row.blocked) || !Number(row.active)) {
      await this.revokeFamily(row.family_id);
      throw new AppError('invalid_grant', 'The user is no longer connected to this application.');
    }
    if (row.dpop_jkt && !dpopJkt) throw new AppError('invalid_dpop_proof', 'This refresh token is bound to a DPoP key: send a DPoP proof.');
    if (row.dpop_jkt && row.dpop_jkt !== dpopJkt) throw new AppError('invalid_grant', 'The refresh token is bound to another DPoP key.');
    const granted = String(row.scope).split(' ');
    if (requestedScopes && !isSubset(requestedScopes, granted)) throw new AppError('invalid_scope', 'The requested scope exceeds what the user granted.');
    const scopes = requestedScopes ?? granted;
    const family: FamilyStart = {
      familyId: row.family_id,
      connectionId: row.connection_id,
      applicationId,
      scope: row.scope,
      authTime: Number(row.auth_time),
      amr: row.amr ? row.amr.split(' ') : undefined,
      dpopJkt: row.dpop_jkt,
    };

    try {
      // A deadlock with a concurrent revocation of the family rolls back the whole use, which then starts over.
      return await retryOnDeadlock(
        () =>
          this.db.transaction(async (m) => {
            // Decided under the row lock, on what the uses before this one committed.
            const locked = await this.repository.lockRefreshToken(m, row.id, this.config.refreshTokenReuseSeconds);
            if (Number(locked.revoked)) throw new AppError('invalid_grant', 'The refresh token has been revoked.');
            if (!Number(locked.used)) await this.repository.markRefreshTokenUsed(m, row.id);
            else if (!Number(locked.reusable)) throw new Replayed();
            const next = await this.insert(m, family, row.family_expires_at);
            const access = await this.tokens.mintAccessToken(m, row.connection_id, row.family_id, scopes.join(' '), clientId, dpopJkt);
            return { access, refreshToken: next, connectionId: row.connection_id, authTime: family.authTime, amr: family.amr, scopes };
          }),
        { orLockWaitTimeout: true },
      );
    } catch (error) {
      if (!(error instanceof Replayed)) throw error;
      // Runs after the transaction ended, so tokens issued by the uses before are revoked too.
      await this.revokeFamily(row.family_id);
      throw replayed();
    }
  }

  /** RFC 7009 for refresh tokens: the client's own token kills its family; anything else is ignored. */
  async revoke(token: string, applicationId: string): Promise<void> {
    const row = await this.find(token);
    if (row && row.application_id === applicationId) await this.revokeFamily(row.family_id);
  }

  /** RFC 7662 for refresh tokens: null unless it is the client's own and usable right now. */
  async introspect(token: string, applicationId: string): Promise<RefreshTokenInfo | null> {
    const row = await this.find(token);
    if (!row || row.application_id !== applicationId) return null;
    if (Number(row.used) || Number(row.revoked) || !Number(row.live) || Number(row.blocked) || !Number(row.active)) return null;
    return { connectionId: row.connection_id, scope: row.scope, exp: Math.floor(Number(row.exp)), iat: Math.floor(Number(row.iat)) };
  }
}
