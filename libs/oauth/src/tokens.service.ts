import { Inject, Injectable, Logger } from '@nestjs/common';
import { errors, jwtVerify, SignJWT } from 'jose';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AccessChangeSignals, AccessSnapshot, AppError, flatRecordBytes, randomToken, SignalledCache } from '@app/common';
import { ConnectionsRepository, SessionCounts } from '@app/connections';
import { CodeGrant } from './codes.service';
import { ConnectionOwners } from './connection-owners';
import { TokenRow, TokensRepository } from './tokens.repository';
import { GrantsService } from './grants/grants.service';
import { SigningKeysService } from './oidc/signing-keys.service';
import { VerifiedTokenCache } from './verified-token-cache';

export interface IssuedToken {
  accessToken: string;
  /** `DPoP` when the token is bound to a proof key (RFC 9449), else `Bearer`. */
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  scope: string;
}

/** What `/api/user` returns about a token's connection. */
export interface TokenProfile {
  connectionId: string;
  applicationId: string;
  globalId: string;
  name: string;
  email: string | null;
  image: string | null;
  scopes: string[];
  /** The connection's relay local part and whether its shared address is a followed linked address (userinfo's email_verified). */
  relayLocal: string;
  linkedVerified: boolean;
  /** The RFC 7638 thumbprint of the DPoP key the token is bound to; absent for a Bearer token. */
  jkt?: string;
}

export type { TokenRow } from './tokens.repository';

/** The claims of an access token (RFC 9068 2.2, RFC 9449 6.1). */
export interface AccessClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  cnf?: { jkt: string };
}

/**
 * How far the clocks of two API processes may disagree. A token issued this
 * long after a connection's profile was cached can be answered from that
 * profile (see `lookup`); a skew beyond it could serve a token revoked just
 * before the profile was read.
 */
const CLOCK_SKEW_MS = 5_000;

/** A connection's profile as read with one of its tokens, and when the change signals were read before that read. */
interface CachedProfile {
  row: TokenRow;
  readAt: number;
}

/** The RFC 9068 media type of access tokens, in their `typ` header. */
const ACCESS_TOKEN_TYP = 'at+jwt';
/** Longer than any access token we sign; spares verifying junk. */
const ACCESS_TOKEN_MAX_LENGTH = 4096;

const isAccessClaims = (c: Record<string, unknown>): c is Record<string, unknown> & AccessClaims =>
  typeof c.sub === 'string' &&
  typeof c.jti === 'string' &&
  typeof c.scope === 'string' &&
  typeof c.client_id === 'string' &&
  typeof c.iat === 'number' &&
  (c.cnf === undefined || (typeof c.cnf === 'object' && c.cnf !== null && typeof (c.cnf as { jkt?: unknown }).jkt === 'string'));

/**
 * Access tokens are JWTs per RFC 9068 (`typ` at+jwt), signed with the active
 * RS256 key of the JWKS so resource servers can check them offline; `sub` is
 * the connection, `aud` the LoginSign API (PUBLIC_URL), `cnf.jkt` the DPoP key
 * of a bound token. Every token also has a row in access_tokens, so it can be
 * revoked before it expires (code replay, blocking, deletion) with effect on
 * the next request. A signature is checked once per process (VerifiedTokenCache).
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly db: DataSource,
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signals: AccessChangeSignals,
    private readonly connections: ConnectionsRepository,
    private readonly repository: TokensRepository,
    private readonly grants: GrantsService,
    private readonly sessionCounts: SessionCounts,
  ) {}

  private readonly logger = new Logger('tokens');

  /** ~50,000 live tokens' rows per process; the least recently used go first. */
  private readonly lookups = new SignalledCache<TokenRow>(32 * 1024 * 1024, flatRecordBytes);
  /** ~30,000 connections' profiles per process, for tokens newer than the profile (see `lookup`). */
  private readonly profiles = new SignalledCache<CachedProfile>(16 * 1024 * 1024, (p) => flatRecordBytes(p.row) + 16);
  private readonly owners = new ConnectionOwners();
  private readonly verified = new VerifiedTokenCache<AccessClaims>();

  /**
   * Exchanges a redeemed code: one access token (bound to `jkt` when given) and
   * one session of the connection. One MySQL statement, no transaction: the
   * INSERT writes the token only while the connection is live; the session is
   * counted in Redis and flushed to MySQL by the worker (SessionCounts).
   */
  async issueForGrant(grant: CodeGrant, clientId: string, scopes: string[], jkt: string | null = null): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    const scope = scopes.join(' ');
    const issued = await this.repository.insertAccessTokenIfConnected(jti, grant.connectionId, grant.applicationId, grant.grantId, scope, ttl);
    if (!issued) throw new AppError('invalid_grant', 'The user is no longer connected to this application.');
    // A replay that raced this exchange marked the grant revoked before our
    // row existed, so its UPDATE missed us: revoke our row too. The exchange
    // itself still answers (exactly one redemption wins), with a dead token.
    // Both Redis steps leave together (one write with auto-pipelining).
    const [, revokedMeanwhile] = await Promise.all([this.countSession(grant), this.grants.isRevoked(grant.grantId)]);
    if (revokedMeanwhile) {
      await this.repository.revokeAccessToken(jti);
    }
    return this.sign(grant.connectionId, jti, scope, clientId, ttl, jkt);
  }

  /**
   * The exchange's session, counted in Redis. When Redis fails, the old direct
   * UPDATE counts it instead: the token row is already committed and the code
   * spent, so failing the exchange now (503) would cost the client its sign-in
   * and still leave the count wrong; a second statement only while Redis is
   * down is the cheaper price. Only when MySQL fails too does the exchange fail.
   */
  private async countSession(grant: CodeGrant): Promise<void> {
    try {
      await this.sessionCounts.record(grant.connectionId);
    } catch (error) {
      this.logger.warn(`session count written to MySQL directly (Redis: ${error instanceof Error ? error.message : String(error)})`);
      await this.connections.recordSession(this.db.manager, grant.connectionId, grant.applicationId);
    }
  }

  /**
   * One more access token of an existing grant (refresh tokens): the row is
   * written with the caller's transaction, so it commits or rolls back with it.
   */
  async mintAccessToken(m: EntityManager, connectionId: string, grantId: string, scope: string, clientId: string, jkt: string | null = null): Promise<IssuedToken> {
    const ttl = this.config.accessTokenTtlSeconds;
    const jti = randomToken(16);
    await this.repository.insertAccessToken(m, jti, connectionId, grantId, scope, ttl);
    return this.sign(connectionId, jti, scope, clientId, ttl, jkt);
  }

  private async sign(connectionId: string, jti: string, scope: string, clientId: string, ttl: number, jkt: string | null): Promise<IssuedToken> {
    const key = await this.keys.activeKey('RS256');
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessClaims = {
      iss: this.config.publicUrl,
      sub: connectionId,
      aud: this.config.publicUrl,
      client_id: clientId,
      scope,
      jti,
      iat: now,
      exp: now + ttl,
      ...(jkt ? { cnf: { jkt } } : {}),
    };
    const accessToken = await new SignJWT({ ...claims }).setProtectedHeader({ alg: key.alg, typ: ACCESS_TOKEN_TYP, kid: key.kid }).sign(key.privateKey);
    return { accessToken, tokenType: jkt ? 'DPoP' : 'Bearer', expiresIn: ttl, scope };
  }

  /** The claims of a well-signed, unexpired access token (revocation not checked); null otherwise. */
  async verifyClaims(token: string): Promise<AccessClaims | null> {
    if (typeof token !== 'string' || token.length > ACCESS_TOKEN_MAX_LENGTH) return null;
    const cacheKey = VerifiedTokenCache.keyOf(token);
    const cached = this.verified.get(cacheKey);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.keys.verificationKey, {
        algorithms: ['RS256'],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.config.publicUrl,
        audience: this.config.publicUrl,
        requiredClaims: ['exp'],
      });
      if (!isAccessClaims(payload)) return null;
      this.verified.set(cacheKey, payload, payload.exp * 1000);
      return payload;
    } catch (error) {
      // A bad token is null; an outage (the key lookup's database read) stays an error.
      if (error instanceof errors.JOSEError) return null;
      throw error;
    }
  }

  /** Verifies an access token and loads its connection (from memory while nothing changed, see `lookup`); null when unusable. */
  async authenticate(token: string): Promise<TokenProfile | null> {
    const claims = await this.verifyClaims(token);
    if (!claims) return null;
    const row = await this.lookup(claims.jti, claims.sub, claims.iat);
    if (!row) return null;
    if (row.id !== claims.sub) return null;
    return {
      connectionId: row.id,
      applicationId: row.application_id,
      globalId: row.global_id,
      name: row.name,
      email: row.shared_email,
      image: row.image,
      scopes: claims.scope.split(' '),
      relayLocal: row.relay_local,
      linkedVerified: Number(row.linked_verified) === 1,
      ...(claims.cnf ? { jkt: claims.cnf.jkt } : {}),
    };
  }

  /**
   * The live token's row (revocation, blocking, deletion and profile changes
   * checked), answered from memory while the change signals of its user and
   * application hold (AccessChangeSignals): one Redis round trip, no MySQL.
   *
   * Why a cached row is never stale: the signals are read BEFORE the MySQL
   * query and the row is cached under them. A change raises its signals
   * before it commits, so a row read before the commit was cached under
   * versions that the raise already replaced (or, if our read came after the
   * raise, it saw the change in flight and cached nothing); its settle after
   * commit replaces them again. A missing key is created only if still
   * missing (a raise in between created it: nothing is cached).
   *
   * A token seen for the first time is answered from its connection's
   * profile, cached with an older token, when it was issued after that
   * profile's signals were read (beyond the clock skew) and they still hold:
   * every revocation raises its user's signal, so a token revoked since would
   * have ended the profile, and one revoked before was issued before it.
   */
  private async lookup(jti: string, connectionId: string, issuedAt: number): Promise<TokenRow | null> {
    const cached = this.lookups.peek(jti);
    const owner = cached ? { userId: String(cached.user_id), applicationId: cached.application_id } : this.owners.get(connectionId);
    if (!owner) {
      // The first token of this connection in this process: whose it is comes
      // with the row. That row is fresh but read before any signal: not cached.
      const row = await this.repository.lookupAccessToken(jti);
      if (row) this.owners.set(row.id, row.user_id, row.application_id);
      return row;
    }
    const readAt = Date.now();
    const now = await this.readSignals(owner);
    const hit = now && this.lookups.get(jti, now);
    if (hit) return hit;
    const profile = now && this.profiles.get(connectionId, now);
    if (profile && issuedAt * 1000 > profile.readAt + CLOCK_SKEW_MS) return profile.row;
    const row = await this.repository.lookupAccessToken(jti);
    if (!row) {
      this.lookups.delete(jti);
      return null;
    }
    const versions = now && (await this.signals.versionsFor(now).catch(() => null));
    if (versions) {
      const expiresAt = new Date(row.expires_at).getTime();
      this.lookups.set(jti, row, versions, expiresAt);
      this.profiles.set(row.id, { row, readAt }, versions, expiresAt);
    }
    return row;
  }

  /**
   * The connection's profile from memory while its change signals hold (the
   * id_token's claims at a code exchange); null when this process has none.
   */
  async cachedProfile(connectionId: string): Promise<TokenRow | null> {
    const owner = this.owners.get(connectionId);
    const now = owner && (await this.readSignals(owner));
    return (now && this.profiles.get(connectionId, now)?.row) ?? null;
  }

  /** The change signals of a connection's user and application; null when Redis is unreachable (MySQL answers then: correct, slower). */
  private readSignals(owner: { userId: string; applicationId: string }): Promise<AccessSnapshot | null> {
    return this.signals.read(owner.userId, owner.applicationId).catch(() => null);
  }

  /** Introspection: the row of a token whose claims were verified, if it is live. */
  async liveRow(claims: AccessClaims): Promise<TokenRow | null> {
    const row = await this.lookup(claims.jti, claims.sub, claims.iat);
    return row && row.id === claims.sub ? row : null;
  }
}
