import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import Redis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, randomToken, REDIS } from '@app/common';
import { CodeGrant } from './codes.service';
import { AuthzVersion, TokenLookupCache } from './token-cache';

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

export /** What one token lookup reads (cached per token id). */
interface TokenRow {
  id: string;
  shared_email: string | null;
  global_id: string;
  name: string;
  image: string | null;
  expires_at: Date;
}

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
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authzVersion: AuthzVersion,
  ) {}

  private readonly lookups = new TokenLookupCache<TokenRow>();

  /** Exchanges a redeemed code: one session of the connection, one access token. */
  async issueForGrant(grant: CodeGrant, clientId: string, scopes: string[]): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    const scope = scopes.join(' ');
    await this.db.transaction(async (m) => {
      const counted = await m.query<{ affectedRows: number }>(
        `UPDATE connections SET sessions = sessions + 1, last_session_at = UTC_TIMESTAMP(3)
         WHERE id = ? AND application_id = ? AND blocked = 0 AND active = 1`,
        [grant.connectionId, grant.applicationId],
      );
      if (counted.affectedRows !== 1) throw new AppError('invalid_grant', 'The user is no longer connected to this application.');
      await m.query(
        `INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)`,
        [jti, grant.connectionId, grant.grantId, scope, ttl],
      );
    });
    // A replay that raced this exchange marked the grant revoked before our
    // row existed, so its UPDATE missed us: revoke our row too. The exchange
    // itself still answers (exactly one redemption wins), with a dead token.
    if (await this.redis.exists(`grant-revoked:${grant.grantId}`)) {
      await this.db.query(`UPDATE access_tokens SET revoked = 1 WHERE id = ?`, [jti]);
    }
    const claims: AccessClaims = { sub: grant.connectionId, jti, scope, client_id: clientId };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: ttl, issuer: this.config.publicUrl });
    return { accessToken, expiresIn: ttl, scope };
  }

  /** Revokes every token issued from one authorization code (replay defence). */
  async revokeGrant(grantId: string): Promise<void> {
    const ttl = this.config.codeTtlSeconds + this.config.accessTokenTtlSeconds;
    await this.redis.set(`grant-revoked:${grantId}`, '1', 'EX', ttl);
    await this.db.query(`UPDATE access_tokens SET revoked = 1 WHERE grant_id = ?`, [grantId]);
  }

  /**
   * One more access token of an existing grant (refresh tokens): the row is
   * written with the caller's transaction, so it commits or rolls back with it.
   */
  async mintAccessToken(m: EntityManager, connectionId: string, grantId: string, scope: string, clientId: string): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    await m.query(
      `INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)`,
      [jti, connectionId, grantId, scope, ttl],
    );
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
      const rows = await this.db.query<TokenRow[]>(
        `SELECT c.id, c.shared_email, u.global_id, u.name, u.image, t.expires_at
         FROM access_tokens t
         JOIN connections c ON c.id = t.connection_id
         JOIN users u ON u.id = c.user_id
         WHERE t.id = ? AND t.revoked = 0 AND t.expires_at > UTC_TIMESTAMP(3) AND c.blocked = 0 AND c.active = 1`,
        [claims.jti],
      );
      if (rows.length === 0) return null;
      row = rows[0];
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
