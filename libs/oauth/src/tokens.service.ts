import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, randomToken } from '@app/common';
import { ConnectionsRepository } from '@app/connections';
import { CodeGrant } from './codes.service';
import { AuthzVersion } from './authz-version';
import { TokenLookupCache } from './token-lookup-cache';
import { TokenRow, TokensRepository } from './tokens.repository';
import { GrantsService } from './grants/grants.service';

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
}

/** What `/api/user` returns about a token's connection. */
export interface TokenProfile {
  connectionId: string;
  globalId: string;
  name: string;
  email: string | null;
  image: string | null;
  scopes: string[];
}

export type { TokenRow } from './tokens.repository';

interface AccessClaims {
  sub: string;
  jti: string;
  scope: string;
  client_id: string;
  iat?: number;
  exp?: number;
}

/**
 * Access tokens are short JWTs (HS256) naming the connection and a token id.
 * Every token also has a row in access_tokens, so it can be revoked before it
 * expires (code replay, blocking, deletion) with effect on the next request.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly db: DataSource,
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authzVersion: AuthzVersion,
    private readonly connections: ConnectionsRepository,
    private readonly repository: TokensRepository,
    private readonly grants: GrantsService,
  ) {}

  private readonly lookups = new TokenLookupCache<TokenRow>();

  /** Exchanges a redeemed code: one session of the connection, one access token. */
  async issueForGrant(grant: CodeGrant, clientId: string, scopes: string[]): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    const scope = scopes.join(' ');
    await this.db.transaction(async (m) => {
      const counted = await this.connections.recordSession(m, grant.connectionId, grant.applicationId);
      if (!counted) throw new AppError('invalid_grant', 'The user is no longer connected to this application.');
      await this.repository.insertAccessToken(m, jti, grant.connectionId, grant.grantId, scope, ttl);
    });
    // A replay that raced this exchange marked the grant revoked before our
    // row existed, so its UPDATE missed us: revoke our row too. The exchange
    // itself still answers (exactly one redemption wins), with a dead token.
    if (await this.grants.isRevoked(grant.grantId)) {
      await this.repository.revokeAccessToken(jti);
    }
    const claims: AccessClaims = { sub: grant.connectionId, jti, scope, client_id: clientId };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: ttl, issuer: this.config.publicUrl });
    return { accessToken, expiresIn: ttl, scope };
  }

  /**
   * One more access token of an existing grant (refresh tokens): the row is
   * written with the caller's transaction, so it commits or rolls back with it.
   */
  async mintAccessToken(m: EntityManager, connectionId: string, grantId: string, scope: string, clientId: string): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    await this.repository.insertAccessToken(m, jti, connectionId, grantId, scope, ttl);
    const claims: AccessClaims = { sub: connectionId, jti, scope, client_id: clientId };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: ttl, issuer: this.config.publicUrl });
    return { accessToken, expiresIn: ttl, scope };
  }

  /** The claims of a well-signed, unexpired access token (revocation not checked); null otherwise. */
  async verifyClaims(token: string): Promise<AccessClaims | null> {
    try {
      return await this.jwt.verifyAsync<AccessClaims>(token, { algorithms: ['HS256'], issuer: this.config.publicUrl });
    } catch {
      return null;
    }
  }

  /** Verifies a bearer token and loads its connection in one indexed query; null when unusable. */
  async authenticate(token: string): Promise<TokenProfile | null> {
    let claims: AccessClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessClaims>(token, { algorithms: ['HS256'], issuer: this.config.publicUrl });
    } catch {
      return null;
    }
    // Answered from memory while nothing that could change the answer has
    // happened since it was cached (authz_version, kept by triggers).
    const version = await this.authzVersion.current();
    let row = this.lookups.get(claims.jti, version);
    if (!row) {
      const found = await this.repository.lookupAccessToken(claims.jti);
      if (!found) return null;
      row = found;
      this.lookups.set(claims.jti, row, version, new Date(row.expires_at).getTime());
    }
    if (row.id !== claims.sub) return null;
    return {
      connectionId: row.id,
      globalId: row.global_id,
      name: row.name,
      email: row.shared_email,
      image: row.image,
      scopes: claims.scope.split(' '),
    };
  }
}
