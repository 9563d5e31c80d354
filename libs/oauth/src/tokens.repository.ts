import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

const affected = (result: { affectedRows?: number }) => Number(result.affectedRows ?? 0);

/** What one access token lookup reads (cached per token id). */
export interface TokenRow {
  id: string;
  user_id: number | string;
  application_id: string;
  shared_email: string | null;
  relay_local: string;
  /** The shared address is a linked address of the user whose link was followed (userinfo's email_verified). */
  linked_verified: number | string;
  global_id: string;
  name: string;
  image: string | null;
  expires_at: Date;
}

/** A refresh token with its connection's state. */
export interface RefreshTokenRow {
  id: string;
  family_id: string;
  connection_id: string;
  application_id: string;
  scope: string;
  auth_time: number | string;
  /** Space-separated RFC 8176 methods of the sign-in, or NULL when unknown. */
  amr: string | null;
  /** The DPoP key thumbprint the family is bound to (public clients), or NULL. */
  dpop_jkt: string | null;
  used: number;
  revoked: number;
  family_expires_at: Date;
  iat: number | string;
  /** The earlier of the family's absolute expiry and this token's idle expiry. */
  exp: number | string;
  /** Within the family's absolute lifetime, and (unused) issued less than the idle timeout ago. */
  live: number;
  /** Used less than the reuse window ago. */
  reusable: number;
  blocked: number;
  active: number;
}

/** A refresh token's state read under its row lock. */
export interface LockedRefreshToken {
  used: number;
  revoked: number;
  reusable: number;
}

export interface NewRefreshToken {
  id: string;
  tokenHash: Buffer;
  /** The grant id of the authorization code; also access_tokens.grant_id of the family. */
  familyId: string;
  connectionId: string;
  applicationId: string;
  scope: string;
  authTime: number;
  amr?: string[];
  /** Binds the family to a DPoP key (RFC 9449 5). */
  dpopJkt?: string | null;
}

/**
 * The SQL of `access_tokens` and `refresh_tokens` (typed raw SQL, no
 * entities). Reads join `connections` and `users` (the lookups check that the
 * connection is still consented and not blocked).
 */
@Injectable()
export class TokensRepository {
  constructor(private readonly db: DataSource) {}

  /** Every live access token and refresh token of a connection marked revoked, in the caller's transaction. */
  async revokeByConnection(m: EntityManager, connectionId: string): Promise<void> {
    await m.query(`UPDATE access_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
    await m.query(`UPDATE refresh_tokens SET revoked = 1 WHERE connection_id = ? AND revoked = 0`, [connectionId]);
  }

  /** Every live access token and refresh token of every connection of a user marked revoked, in the caller's transaction. */
  async revokeByUser(m: EntityManager, userId: number): Promise<void> {
    await m.query(`UPDATE access_tokens a JOIN connections c ON c.id = a.connection_id SET a.revoked = 1 WHERE c.user_id = ? AND a.revoked = 0`, [userId]);
    await m.query(`UPDATE refresh_tokens r JOIN connections c ON c.id = r.connection_id SET r.revoked = 1 WHERE c.user_id = ? AND r.revoked = 0`, [userId]);
  }

  /** One batch of housekeeping: access tokens past their expiry (revoked or not: a revoked token is only kept until it would have expired anyway). */
  async purgeExpiredAccessTokens(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM access_tokens WHERE expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }

  /** One batch of housekeeping: refresh tokens past their family's absolute expiry (used ones are kept until then: replay detection). */
  async purgeExpiredRefreshTokens(batch: number): Promise<number> {
    return affected(await this.db.query(`DELETE FROM refresh_tokens WHERE family_expires_at < UTC_TIMESTAMP(3) LIMIT ${Number(batch)}`));
  }

  async insertAccessToken(m: EntityManager, jti: string, connectionId: string, grantId: string, scope: string, ttlSeconds: number): Promise<void> {
    await m.query(`INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)`, [
      jti,
      connectionId,
      grantId,
      scope,
      ttlSeconds,
    ]);
  }

  /**
   * A code exchange's token, one autocommit statement: inserted only while the
   * connection of this application is still consented and not blocked; false
   * (nothing written) when it is not.
   */
  async insertAccessTokenIfConnected(jti: string, connectionId: string, applicationId: string, grantId: string, scope: string, ttlSeconds: number): Promise<boolean> {
    const result: { affectedRows?: number } = await this.db.query(
      `INSERT INTO access_tokens (id, connection_id, grant_id, scope, expires_at)
       SELECT ?, c.id, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND FROM connections c
       WHERE c.id = ? AND c.application_id = ? AND c.blocked = 0 AND c.active = 1`,
      [jti, grantId, scope, ttlSeconds, connectionId, applicationId],
    );
    return affected(result) === 1;
  }

  async revokeAccessToken(jti: string): Promise<void> {
    await this.db.query(`UPDATE access_tokens SET revoked = 1 WHERE id = ?`, [jti]);
  }

  /** The client's own access token (by its application), else nothing. */
  async revokeClientAccessToken(jti: string, applicationId: string): Promise<void> {
    await this.db.query(`UPDATE access_tokens t JOIN connections c ON c.id = t.connection_id SET t.revoked = 1 WHERE t.id = ? AND c.application_id = ?`, [jti, applicationId]);
  }

  /** The token's connection and user when the token is live and the connection consented and not blocked; one indexed query. */
  async lookupAccessToken(jti: string): Promise<TokenRow | null> {
    const rows: TokenRow[] = await this.db.query(
      `SELECT c.id, c.user_id, c.application_id, c.shared_email, c.relay_local, u.global_id, u.name, u.image, t.expires_at,
         EXISTS(SELECT 1 FROM user_emails e WHERE e.user_id = c.user_id AND e.email = c.shared_email AND e.confirmed_at IS NOT NULL) AS linked_verified
       FROM access_tokens t
       JOIN connections c ON c.id = t.connection_id
       JOIN users u ON u.id = c.user_id
       WHERE t.id = ? AND t.revoked = 0 AND t.expires_at > UTC_TIMESTAMP(3) AND c.blocked = 0 AND c.active = 1`,
      [jti],
    );
    return rows.length ? rows[0] : null;
  }

  /** The user of a connection (whose change signal a revocation raises); null when it is gone. */
  async connectionUser(connectionId: string, m: EntityManager = this.db.manager): Promise<number | null> {
    const [row]: { user_id: number | string }[] = await m.query(`SELECT user_id FROM connections WHERE id = ?`, [connectionId]);
    return row ? Number(row.user_id) : null;
  }

  /** The users of the connections a grant (refresh token family) issued tokens to: one, or none once it is gone. */
  async grantUsers(grantId: string): Promise<number[]> {
    const rows: { user_id: number | string }[] = await this.db.query(
      `SELECT DISTINCT c.user_id FROM connections c
       WHERE c.id IN (SELECT connection_id FROM access_tokens WHERE grant_id = ? UNION SELECT connection_id FROM refresh_tokens WHERE family_id = ?)`,
      [grantId, grantId],
    );
    return rows.map((r) => Number(r.user_id));
  }

  /** A refresh token: its family's absolute expiry is given (a rotation), or starts now. */
  async insertRefreshToken(m: EntityManager, t: NewRefreshToken, familyExpiresAt: Date | null, ttlSeconds: number): Promise<void> {
    const expiry = familyExpiresAt ? '?' : 'UTC_TIMESTAMP(3) + INTERVAL ? SECOND';
    await m.query(
      `INSERT INTO refresh_tokens (id, token_hash, family_id, connection_id, application_id, scope, auth_time, amr, dpop_jkt, family_expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ${expiry})`,
      [
        t.id,
        t.tokenHash,
        t.familyId,
        t.connectionId,
        t.applicationId,
        t.scope,
        t.authTime,
        t.amr && t.amr.length > 0 ? t.amr.join(' ') : null,
        t.dpopJkt ?? null,
        familyExpiresAt ?? ttlSeconds,
      ],
    );
  }

  /**
   * A family's last use is when its newest token was issued (every use issues
   * one), so an unused token issued `idleSeconds` ago means the family sat idle
   * that long. A used token is judged by its use instead (the reuse window).
   */
  async findRefreshToken(tokenHash: Buffer, idleSeconds: number, reuseSeconds: number): Promise<RefreshTokenRow | null> {
    const [row]: RefreshTokenRow[] = await this.db.query(
      `SELECT r.id, r.family_id, r.connection_id, r.application_id, r.scope, r.auth_time, r.amr, r.dpop_jkt, r.used, r.revoked, r.family_expires_at,
         TIMESTAMPDIFF(SECOND, '1970-01-01', r.created_at) AS iat,
         TIMESTAMPDIFF(SECOND, '1970-01-01', LEAST(r.family_expires_at, r.created_at + INTERVAL ? SECOND)) AS exp,
         r.family_expires_at > UTC_TIMESTAMP(3) AND (r.used = 1 OR r.created_at > UTC_TIMESTAMP(3) - INTERVAL ? SECOND) AS live,
         COALESCE(r.used_at > UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 0) AS reusable,
         c.blocked, c.active
       FROM refresh_tokens r JOIN connections c ON c.id = r.connection_id WHERE r.token_hash = ?`,
      [idleSeconds, idleSeconds, reuseSeconds, tokenHash],
    );
    return row ?? null;
  }

  /**
   * The row lock every use of one token queues on: concurrent uses run one
   * after another, each seeing what the previous one committed.
   */
  async lockRefreshToken(m: EntityManager, id: string, reuseSeconds: number): Promise<LockedRefreshToken> {
    const [row]: LockedRefreshToken[] = await m.query(
      `SELECT used, revoked, COALESCE(used_at > UTC_TIMESTAMP(3) - INTERVAL ? SECOND, 0) AS reusable FROM refresh_tokens WHERE id = ? FOR UPDATE`,
      [reuseSeconds, id],
    );
    return row;
  }

  /** The rotation: the token's first use, whose time starts the reuse window. */
  async markRefreshTokenUsed(m: EntityManager, id: string): Promise<void> {
    await m.query(`UPDATE refresh_tokens SET used = 1, used_at = UTC_TIMESTAMP(3) WHERE id = ?`, [id]);
  }

  /** Every refresh token and every access token of a family. */
  async revokeFamily(familyId: string): Promise<void> {
    await this.db.query(`UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ? AND revoked = 0`, [familyId]);
    await this.db.query(`UPDATE access_tokens SET revoked = 1 WHERE grant_id = ? AND revoked = 0`, [familyId]);
  }
}
