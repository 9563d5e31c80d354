import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AccessChangeSignals, AppError, encrypt, notFound, randomAlnum, randomId, randomToken, safeEqual, sha256 } from '@app/common';
import { ApplicationPatch, ApplicationsRepository, StoredApplication } from './applications.repository';
import {
  ApplicationType,
  checkApplicationName,
  checkApplicationType,
  checkIdTokenSigningAlg,
  checkLogoUrl,
  checkPostLogoutRedirectUris,
  checkRedirectUris,
  checkSenderAddresses,
  checkSenderDomains,
  checkWebhookUrl,
  IdTokenSigningAlg,
  isPublicClient,
} from './application-rules';
import { ClientAuthCache } from './client-auth-cache';
import { SpaOriginsService } from './spa-origins.service';

/** What the rest of the system needs to know about an application (no secrets). */
export interface ApplicationRecord {
  id: string;
  developerId: number;
  name: string;
  logoUrl: string | null;
  clientId: string;
  redirectUris: string[];
  /** `web` (confidential) or a public client (`spa`, `native`: no secret, PKCE required). */
  type: ApplicationType;
  postLogoutRedirectUris: string[];
  webhookUrl: string | null;
  /** Who may send mail to the application's relay addresses (see libs/relay). */
  senderDomains: string[];
  senderAddresses: string[];
  /** What to publish for each sender domain, and whether it was found: only verified domains are used. */
  senderDomainVerifications: SenderDomainVerification[];
  idTokenSigningAlg: IdTokenSigningAlg;
  createdAt: Date;
  /** RFC 9126: plain authorization requests are refused. */
  requirePushedAuthorizationRequests: boolean;
}

export interface SenderDomainVerification {
  domain: string;
  name: string;
  value: string;
  verified: boolean;
}

export interface NewApplication {
  name: string;
  redirectUris: string[];
  type?: string;
  postLogoutRedirectUris?: string[];
  webhookUrl?: string | null;
  logoUrl?: string | null;
  idTokenSigningAlg?: IdTokenSigningAlg;
  requirePushedAuthorizationRequests?: boolean;
}

/** Fields to change; absent = unchanged, `null` clears webhookUrl / logoUrl. */
export interface ApplicationChanges {
  name?: string;
  redirectUris?: string[];
  /** Accepted only when it names the current type: a type is never changed. */
  type?: string;
  postLogoutRedirectUris?: string[];
  webhookUrl?: string | null;
  logoUrl?: string | null;
  senderDomains?: string[];
  senderAddresses?: string[];
  idTokenSigningAlg?: IdTokenSigningAlg;
  requirePushedAuthorizationRequests?: boolean;
}

/** The only moment the secrets exist in plain text outside the client. */
export interface CreatedApplication {
  application: ApplicationRecord;
  /** null for public clients: they have no secret. */
  clientSecret: string | null;
  webhookSecret: string;
}

const APP_ID = /^app_[a-z0-9]{20}$/;
const CLIENT_ID = /^ls_[a-z0-9]{24}$/;
/** Longer than any secret we issue; spares hashing junk on the token path. */
const CLIENT_SECRET_MAX = 256;

const newClientId = () => `ls_${randomAlnum(24)}`;
/** Standard Webhooks secret format. */
const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The TXT value proving control of `domain` for one application: an HMAC, so nothing to store. */
function verificationValue(key: Buffer, appId: string, domain: string): string {
  return `loginsign-verification=${createHmac('sha256', key).update(`sender-domain\0${appId}\0${domain}`).digest('hex').slice(0, 32)}`;
}

const toRecord = (app: StoredApplication, key: Buffer): ApplicationRecord => ({
  id: app.id,
  developerId: app.developerId,
  name: app.name,
  logoUrl: app.logoUrl,
  clientId: app.clientId,
  redirectUris: app.redirectUris,
  type: app.type,
  postLogoutRedirectUris: app.postLogoutRedirectUris,
  webhookUrl: app.webhookUrl,
  senderDomains: app.senderDomains ?? [],
  senderAddresses: app.senderAddresses ?? [],
  senderDomainVerifications: (app.senderDomains ?? []).map((domain) => ({
    domain,
    name: `_loginsign.${domain}`,
    value: verificationValue(key, app.id, domain),
    verified: (app.senderDomainsVerified ?? []).includes(domain),
  })),
  idTokenSigningAlg: app.idTokenSigningAlg,
  createdAt: app.createdAt,
  requirePushedAuthorizationRequests: app.requirePushedAuthorizationRequests,
});

/**
 * Applications (OAuth clients) of developers. Every method taking a
 * `developerId` only sees that developer's applications: another
 * developer's id answers 404, exactly like an unknown one.
 */
@Injectable()
export class ApplicationsService {
  constructor(
    private readonly apps: ApplicationsRepository,
    private readonly spaOrigins: SpaOriginsService,
    private readonly clientAuth: ClientAuthCache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly signals: AccessChangeSignals,
  ) {}

  async create(developerId: number, input: NewApplication): Promise<CreatedApplication> {
    const type = checkApplicationType(input.type);
    const clientSecret = isPublicClient(type) ? null : randomToken(32);
    const webhookSecret = newWebhookSecret();
    const app: StoredApplication = {
      id: randomId('app'),
      developerId,
      name: checkApplicationName(input.name),
      type,
      redirectUris: checkRedirectUris(input.redirectUris, type),
      postLogoutRedirectUris: checkPostLogoutRedirectUris(input.postLogoutRedirectUris ?? [], type),
      webhookUrl: this.webhookUrlOrNull(input.webhookUrl),
      logoUrl: input.logoUrl == null ? null : checkLogoUrl(input.logoUrl),
      senderDomains: [],
      senderAddresses: [],
      senderDomainsVerified: [],
      idTokenSigningAlg: input.idTokenSigningAlg === undefined ? 'RS256' : checkIdTokenSigningAlg(input.idTokenSigningAlg),
      clientId: newClientId(),
      clientSecretHash: clientSecret === null ? null : sha256(clientSecret),
      webhookSecretEnc: this.seal(webhookSecret),
      createdAt: new Date(),
      requirePushedAuthorizationRequests: input.requirePushedAuthorizationRequests ?? false,
    };
    await this.apps.insert(app);
    this.spaOrigins.invalidate();
    return { application: toRecord(app, this.config.secrets.sessionSecret), clientSecret, webhookSecret };
  }

  /** Newest first. */
  async list(developerId: number): Promise<ApplicationRecord[]> {
    const apps = await this.apps.listOf(developerId);
    return apps.map((a) => toRecord(a, this.config.secrets.sessionSecret));
  }

  /** The developer's application, or 404 `not_found`. For every `/applications/:appId/...` route. */
  async getOwned(developerId: number, appId: string): Promise<ApplicationRecord> {
    return toRecord(await this.findOwned(developerId, appId), this.config.secrets.sessionSecret);
  }

  async update(developerId: number, appId: string, changes: ApplicationChanges): Promise<ApplicationRecord> {
    const app = await this.findOwned(developerId, appId);
    if (changes.type !== undefined && changes.type !== app.type) {
      throw new AppError('invalid_request', `type cannot be changed (this application is ${app.type}); register a new application instead.`);
    }
    const patch: ApplicationPatch = {};
    if (changes.name !== undefined) patch.name = checkApplicationName(changes.name);
    if (changes.redirectUris !== undefined) patch.redirectUris = checkRedirectUris(changes.redirectUris, app.type);
    if (changes.postLogoutRedirectUris !== undefined) patch.postLogoutRedirectUris = checkPostLogoutRedirectUris(changes.postLogoutRedirectUris, app.type);
    if (changes.webhookUrl !== undefined) patch.webhookUrl = this.webhookUrlOrNull(changes.webhookUrl);
    if (changes.logoUrl !== undefined) patch.logoUrl = changes.logoUrl === null ? null : checkLogoUrl(changes.logoUrl);
    if (changes.senderDomains !== undefined) {
      patch.senderDomains = checkSenderDomains(changes.senderDomains, this.config.relayDomain);
      // A domain removed loses its verification; one added again is verified again.
      patch.senderDomainsVerified = app.senderDomainsVerified.filter((d) => patch.senderDomains!.includes(d));
    }
    if (changes.idTokenSigningAlg !== undefined) patch.idTokenSigningAlg = checkIdTokenSigningAlg(changes.idTokenSigningAlg);
    if (changes.senderAddresses !== undefined) patch.senderAddresses = checkSenderAddresses(changes.senderAddresses, this.config.relayDomain);
    if (changes.requirePushedAuthorizationRequests !== undefined) patch.requirePushedAuthorizationRequests = changes.requirePushedAuthorizationRequests;
    if (Object.keys(patch).length > 0) {
      await this.apps.update(app.id, patch);
      this.spaOrigins.invalidate();
      await this.clientAuth.changed(app.clientId);
    }
    return toRecord({ ...app, ...patch }, this.config.secrets.sessionSecret);
  }

  /**
   * Looks up `_loginsign.<domain>` TXT (resolver DNS_SERVERS) and marks the
   * domain verified when the application's value is there. 404 for a domain
   * not in senderDomains, 400 when the record is missing or wrong.
   */
  async verifySenderDomain(developerId: number, appId: string, domainParam: string): Promise<{ domain: string; verified: true }> {
    const app = await this.findOwned(developerId, appId);
    const domain = domainParam.trim().toLowerCase();
    if (!app.senderDomains.includes(domain)) throw notFound('The sender domain');
    const expected = verificationValue(this.config.secrets.sessionSecret, app.id, domain);
    const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
    if (this.config.relay.dnsServers.length) resolver.setServers(this.config.relay.dnsServers);
    const records = await resolver.resolveTxt(`_loginsign.${domain}`).catch(() => [] as string[][]);
    const found = records.some((chunks) => safeEqual(chunks.join(''), expected));
    if (!found) throw new AppError('invalid_request', `No TXT record _loginsign.${domain} with the value "${expected}" was found.`);
    if (!app.senderDomainsVerified.includes(domain)) {
      await this.apps.update(app.id, { senderDomainsVerified: [...app.senderDomainsVerified, domain] });
      await this.clientAuth.changed(app.clientId);
    }
    return { domain, verified: true };
  }

  /** Deletes the application; its connections and tokens go with it (ON DELETE CASCADE). */
  async remove(developerId: number, appId: string): Promise<void> {
    const app = await this.findOwned(developerId, appId);
    await this.signals.around({ applications: [app.id] }, () => this.apps.delete(developerId, app.id));
    this.spaOrigins.invalidate();
    await this.clientAuth.changed(app.clientId);
  }

  /** A new client secret; the old one stops working with this write. */
  async rotateClientSecret(developerId: number, appId: string): Promise<{ clientId: string; clientSecret: string }> {
    const app = await this.findOwned(developerId, appId);
    if (isPublicClient(app.type)) throw new AppError('invalid_request', `A ${app.type} application is a public client: it has no client secret to rotate.`);
    const clientSecret = randomToken(32);
    await this.apps.setClientSecretHash(app.id, sha256(clientSecret));
    await this.clientAuth.changed(app.clientId);
    return { clientId: app.clientId, clientSecret };
  }

  async rotateWebhookSecret(developerId: number, appId: string): Promise<{ webhookSecret: string }> {
    const app = await this.findOwned(developerId, appId);
    const webhookSecret = newWebhookSecret();
    await this.apps.setWebhookSecretEnc(app.id, this.seal(webhookSecret));
    return { webhookSecret };
  }

  /**
   * For /oauth/authorize, PAR and logout: the application of a client_id,
   * from the per-process ClientAuthCache while the client's version signal is
   * unchanged (one Redis GET), else one lookup on the unique client_id index.
   */
  async findByClientId(clientId: string): Promise<ApplicationRecord | null> {
    if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return null;
    const version = await this.clientAuth.version(clientId);
    const cached = this.clientAuth.record(clientId, version);
    if (cached) return cached;
    const app = await this.apps.findByClientId(clientId);
    if (!app) return null;
    const record = toRecord(app, this.config.secrets.sessionSecret);
    this.clientAuth.remember(clientId, null, version, record);
    return record;
  }

  /**
   * Client authentication on the token path: SHA-256 of the presented secret
   * compared in constant time with the stored hash. Secrets are 256-bit
   * random, so a fast hash suffices (no argon2/bcrypt: it would cap throughput).
   * A success is remembered per process (ClientAuthCache): while the client's
   * version signal in Redis is unchanged, the same secret needs no MySQL read.
   */
  async authenticateClient(clientId: string, clientSecret: string): Promise<ApplicationRecord | null> {
    if (typeof clientSecret !== 'string' || clientSecret.length === 0 || clientSecret.length > CLIENT_SECRET_MAX) return null;
    if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return null;
    const presented = sha256(clientSecret);
    const version = await this.clientAuth.version(clientId);
    const cached = this.clientAuth.lookup(clientId, presented, version);
    if (cached) return cached;
    const app = await this.findEntityByClientId(clientId);
    // A public client has no secret: a presented one never authenticates it.
    if (!app || app.clientSecretHash === null || !safeEqual(presented, app.clientSecretHash)) return null;
    const record = toRecord(app, this.config.secrets.sessionSecret);
    this.clientAuth.remember(clientId, presented, version, record);
    return record;
  }

  /**
   * Disables (the endpoint answered 410 Gone) or re-enables the application's
   * webhook endpoint; in the caller's transaction when one is given.
   */
  async setWebhookDisabled(appId: string, disabled: boolean, m?: EntityManager): Promise<void> {
    await this.apps.setWebhookDisabled(appId, disabled, m);
  }

  /** The application's webhook endpoint; null for an unknown application. */
  async webhookEndpoint(appId: string): Promise<{ webhookUrl: string | null; disabledAt: Date | null } | null> {
    return this.apps.webhookEndpoint(appId);
  }

  private async findOwned(developerId: number, appId: string): Promise<StoredApplication> {
    // Ids of a foreign format cannot exist: no query needed.
    const app = typeof appId === 'string' && APP_ID.test(appId) ? await this.apps.findOwned(developerId, appId) : null;
    if (!app) throw notFound('The application');
    return app;
  }

  private async findEntityByClientId(clientId: string): Promise<StoredApplication | null> {
    if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return null;
    return this.apps.findByClientId(clientId);
  }

  private webhookUrlOrNull(value: string | null | undefined): string | null {
    return value == null ? null : checkWebhookUrl(value, !this.config.isProduction);
  }

  private seal(secret: string): string {
    return encrypt(this.config.secrets.dataEncryptionKey, secret);
  }
}
