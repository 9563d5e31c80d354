import { Inject, Injectable } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, JsonWebKey, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decrypt, encrypt, randomToken } from '@app/common';
import { ID_TOKEN_ALG } from './jws';
import { SigningKeysRepository } from './signing-keys.repository';

export interface ActiveKey {
  kid: string;
  privateKey: KeyObject;
  /** Age in seconds when loaded (database clock). */
  ageSeconds: number;
  loadedAt: number;
}

export interface PublishedKey {
  kid: string;
  jwk: JsonWebKey & { kid: string; alg: string; use: string };
  publicKey: KeyObject;
}

type KeyConfig = Pick<AppConfig, 'accessTokenTtlSeconds' | 'signingKeyCacheSeconds' | 'secrets'>;

/** id_tokens live as long as access tokens. */
export const idTokenTtlSeconds = (config: Pick<AppConfig, 'accessTokenTtlSeconds'>) => config.accessTokenTtlSeconds;

/**
 * How long a rotated key stays published: a process may keep signing with it
 * for one cache period after the rotation, and what it signed then lives one
 * id_token lifetime; plus a minute for clock skew.
 */
export const retireAfterSeconds = (config: KeyConfig) => idTokenTtlSeconds(config) + config.signingKeyCacheSeconds + 60;

function newKeyRow(config: KeyConfig) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomToken(16);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: ID_TOKEN_ALG, use: 'sig' };
  const sealed = encrypt(config.secrets.dataEncryptionKey, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  return { kid, alg: ID_TOKEN_ALG, jwk: JSON.stringify(jwk), sealed };
}

/**
 * Rotates the id_token signing key: the active key(s) become "rotated" (still
 * published until retireAfterSeconds) and a new key becomes active, in one
 * transaction, so a reader sees either the old or the new active key. Keys
 * retired long enough are deleted (their private parts with them).
 * With `onlyIfActiveKid`, nothing happens unless that key is still active:
 * of several processes noticing the same stale key, one rotates it.
 * Used by SigningKeysService and by `npm run keys:rotate`. Returns the new kid, or null.
 */
export async function rotateSigningKey(db: DataSource, config: KeyConfig, onlyIfActiveKid?: string): Promise<string | null> {
  const key = newKeyRow(config);
  const keys = new SigningKeysRepository(db);
  return db.transaction(async (m) => {
    if (onlyIfActiveKid && !(await keys.rotateIfActive(m, onlyIfActiveKid))) return null;
    await keys.rotateAllActive(m);
    await keys.insert(key, m);
    await keys.deleteRotatedBefore(m, retireAfterSeconds(config));
    return key.kid;
  });
}

/**
 * The id_token signing keys (ES256), kept in `signing_keys`.
 * The active key is cached in memory and re-read every SIGNING_KEY_CACHE_SECONDS,
 * so signing never touches the database on the hot path and a rotation done by
 * another process (or `npm run keys:rotate`) is picked up within that period.
 * A key older than SIGNING_KEY_ROTATION_DAYS is rotated when it is next needed.
 */
@Injectable()
export class SigningKeysService {
  private active: ActiveKey | null = null;
  private loadingActive: Promise<ActiveKey> | null = null;
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

  /** The key new tokens are signed with (from memory unless the cache period is over). */
  async activeKey(): Promise<ActiveKey> {
    const cached = this.active;
    if (cached && Date.now() - cached.loadedAt < this.cacheMs && !this.isStale(cached)) return cached;
    // One load at a time per process.
    this.loadingActive ??= this.loadActive().finally(() => (this.loadingActive = null));
    return this.loadingActive;
  }

  private async loadActive(): Promise<ActiveKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.keys.newestActive();
      if (!row) {
        // First start: create the first key. Two processes racing both insert
        // one; both are published, the newest is the active one everywhere.
        const key = newKeyRow(this.config);
        await this.keys.insert(key);
        this.published = null;
        continue;
      }
      const key: ActiveKey = {
        kid: row.kid,
        privateKey: createPrivateKey(decrypt(this.config.secrets.dataEncryptionKey, row.private_key_enc)),
        ageSeconds: Number(row.age),
        loadedAt: Date.now(),
      };
      if (this.isStale(key)) {
        await rotateSigningKey(this.db, this.config, key.kid);
        this.published = null;
        continue;
      }
      this.active = key;
      return key;
    }
    throw new Error('Could not load an id_token signing key');
  }

  /** Rotates now (this process sees the new key at once; others within the cache period). */
  async rotate(): Promise<string> {
    const kid = (await rotateSigningKey(this.db, this.config))!;
    this.active = null;
    this.published = null;
    return kid;
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
    const keys = rows.map((r) => {
      const jwk = JSON.parse(r.public_jwk) as PublishedKey['jwk'];
      return { kid: r.kid, jwk, publicKey: createPublicKey({ key: jwk, format: 'jwk' }) };
    });
    this.published = { keys, loadedAt: Date.now() };
    return keys;
  }

  /** The public key of `kid` if it is still published. */
  async publicKey(kid: string): Promise<KeyObject | null> {
    const keys = await this.publishedKeys(this.cacheMs);
    const found = keys.find((k) => k.kid === kid) ?? (await this.publishedKeys()).find((k) => k.kid === kid);
    return found?.publicKey ?? null;
  }
}
