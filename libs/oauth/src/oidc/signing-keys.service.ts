import { Inject, Injectable } from '@nestjs/common';
import { CryptoKey, errors, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, JWK, JWSHeaderParameters } from 'jose';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decrypt, encrypt, randomToken } from '@app/common';
import { NewSigningKey, SigningKeysRepository } from './signing-keys.repository';

/** The algorithms LoginSign signs with: RS256 (the default; access tokens too) and ES256 (id_tokens of apps that ask for it). */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const DEFAULT_SIGNING_ALG: SigningAlg = 'RS256';

export interface ActiveKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  /** Age in seconds when loaded (database clock). */
  ageSeconds: number;
  loadedAt: number;
}

export interface PublishedKey {
  kid: string;
  alg: string;
  jwk: JWK & { kid: string; alg: string; use: string };
  publicKey: CryptoKey;
}

type KeyConfig = Pick<AppConfig, 'accessTokenTtlSeconds' | 'signingKeyCacheSeconds' | 'secrets'>;

/** id_tokens live as long as access tokens. */
export const idTokenTtlSeconds = (config: Pick<AppConfig, 'accessTokenTtlSeconds'>) => config.accessTokenTtlSeconds;

/**
 * How long a rotated key stays published: a process may keep signing with it
 * for one cache period after the rotation, and what it signed then (id_tokens
 * and access tokens) lives one token lifetime; plus a minute for clock skew.
 */
export const retireAfterSeconds = (config: KeyConfig) => idTokenTtlSeconds(config) + config.signingKeyCacheSeconds + 60;

/** A new key pair of `alg` (RSA 2048 or P-256): the public JWK and the private key sealed with DATA_ENCRYPTION_KEY. */
async function newKeyRow(config: KeyConfig, alg: SigningAlg): Promise<NewSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const kid = randomToken(16);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const sealed = encrypt(config.secrets.dataEncryptionKey, await exportPKCS8(privateKey));
  return { kid, alg, jwk: JSON.stringify(jwk), sealed };
}

/**
 * Rotates the signing keys of every algorithm: the active keys become
 * "rotated" (still published until retireAfterSeconds) and one new key per
 * algorithm becomes active, in one transaction, so a reader sees either the
 * old or the new active keys. Keys retired long enough are deleted (their
 * private parts with them). With `onlyIfActiveKid`, nothing happens unless
 * that key is still active: of several processes noticing the same stale key,
 * one rotates. Used by SigningKeysService and by `npm run keys:rotate`.
 * Returns the new kids, or null.
 */
export async function rotateSigningKeys(db: DataSource, config: KeyConfig, onlyIfActiveKid?: string): Promise<string[] | null> {
  const fresh = await Promise.all(SIGNING_ALGS.map((alg) => newKeyRow(config, alg)));
  const keys = new SigningKeysRepository(db);
  return db.transaction(async (m) => {
    if (onlyIfActiveKid && !(await keys.rotateIfActive(m, onlyIfActiveKid))) return null;
    await keys.rotateAllActive(m);
    for (const key of fresh) await keys.insert(key, m);
    await keys.deleteRotatedBefore(m, retireAfterSeconds(config));
    return fresh.map((k) => k.kid);
  });
}

/**
 * The signing keys (one active RS256 and one active ES256 key), kept in
 * `signing_keys` with the private keys encrypted.
 * The active keys are cached in memory and re-read every SIGNING_KEY_CACHE_SECONDS,
 * so signing never touches the database on the hot path and a rotation done by
 * another process (or `npm run keys:rotate`) is picked up within that period.
 * A key older than SIGNING_KEY_ROTATION_DAYS is rotated when it is next needed;
 * a missing key (a fresh install, or RS256 on a database that had only ES256) is created.
 */
@Injectable()
export class SigningKeysService {
  private readonly active = new Map<SigningAlg, ActiveKey>();
  private readonly loadingActive = new Map<SigningAlg, Promise<ActiveKey>>();
  private published: { keys: PublishedKey[]; loadedAt: number } | null = null;
  private loadingPublished: Promise<PublishedKey[]> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly keys: SigningKeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get cacheMs() {
    return this.config.signingKeyCacheSeconds * 1000;
  }

  private isStale(key: ActiveKey): boolean {
    const age = key.ageSeconds + (Date.now() - key.loadedAt) / 1000;
    return age > this.config.signingKeyRotationDays * 86400;
  }

  /** The key new tokens of `alg` are signed with (from memory unless the cache period is over). */
  async activeKey(alg: SigningAlg = DEFAULT_SIGNING_ALG): Promise<ActiveKey> {
    const cached = this.active.get(alg);
    if (cached && Date.now() - cached.loadedAt < this.cacheMs && !this.isStale(cached)) return cached;
    // One load at a time per process and algorithm.
    let loading = this.loadingActive.get(alg);
    if (!loading) {
      loading = this.loadActive(alg).finally(() => this.loadingActive.delete(alg));
      this.loadingActive.set(alg, loading);
    }
    return loading;
  }

  private async loadActive(alg: SigningAlg): Promise<ActiveKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.keys.newestActive(alg);
      if (!row) {
        // No key of this algorithm yet. Two processes racing both insert one;
        // both are published, the newest is the active one everywhere.
        await this.keys.insert(await newKeyRow(this.config, alg));
        this.published = null;
        continue;
      }
      const key: ActiveKey = {
        kid: row.kid,
        alg,
        privateKey: await importPKCS8(decrypt(this.config.secrets.dataEncryptionKey, row.private_key_enc), alg),
        ageSeconds: Number(row.age),
        loadedAt: Date.now(),
      };
      if (this.isStale(key)) {
        await rotateSigningKeys(this.db, this.config, key.kid);
        this.published = null;
        continue;
      }
      this.active.set(alg, key);
      return key;
    }
    throw new Error(`Could not load a ${alg} signing key`);
  }

  /** Rotates now (this process sees the new keys at once; others within the cache period). */
  async rotate(): Promise<string[]> {
    const kids = (await rotateSigningKeys(this.db, this.config))!;
    this.active.clear();
    this.published = null;
    return kids;
  }

  /**
   * Every public key a valid token may carry: the active ones and the rotated
   * ones not yet retired. Read fresh at most once a second (the JWKS endpoint
   * and verification share it), so a key another process just created is
   * published before clients can have seen a token signed with it.
   */
  async publishedKeys(maxAgeMs = 1000): Promise<PublishedKey[]> {
    const cached = this.published;
    if (cached && Date.now() - cached.loadedAt < maxAgeMs) return cached.keys;
    this.loadingPublished ??= this.loadPublished().finally(() => (this.loadingPublished = null));
    return this.loadingPublished;
  }

  private async loadPublished(): Promise<PublishedKey[]> {
    const rows = await this.keys.published(retireAfterSeconds(this.config));
    const keys = await Promise.all(
      rows.map(async (r) => {
        const jwk = JSON.parse(r.public_jwk) as PublishedKey['jwk'];
        return { kid: r.kid, alg: r.alg, jwk, publicKey: (await importJWK(jwk, r.alg)) as CryptoKey };
      }),
    );
    this.published = { keys, loadedAt: Date.now() };
    return keys;
  }

  /** The published key `kid`, if any (a fresh read when it is not in the cached list). */
  async publishedKey(kid: string): Promise<PublishedKey | null> {
    const found = (await this.publishedKeys(this.cacheMs)).find((k) => k.kid === kid);
    return found ?? (await this.publishedKeys()).find((k) => k.kid === kid) ?? null;
  }

  /**
   * A jose key resolver for tokens we signed: the published key named by the
   * header's `kid`, only for the algorithm it was made for. An unknown key is
   * a jose error (a bad token); a failed database read is not.
   */
  readonly verificationKey = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const key = typeof header.kid === 'string' ? await this.publishedKey(header.kid) : null;
    if (!key || key.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
    return key.publicKey;
  };
}
