import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ApplicationType, IdTokenSigningAlg } from './application-rules';

/** An application as stored in `applications`. */
export interface StoredApplication {
  id: string;
  developerId: number;
  name: string;
  logoUrl: string | null;
  clientId: string;
  /** SHA-256 of the client secret; the secret itself is never stored. */
  clientSecretHash: Buffer | null;
  /** Kept as a JSON array in a TEXT column, in the order given. */
  redirectUris: string[];
  /** Set at creation, never changed; public clients (spa, native) have no secret. */
  type: ApplicationType;
  postLogoutRedirectUris: string[];
  webhookUrl: string | null;
  /** Registered senders of relay mail (lower-case domains); NULL = none. */
  senderDomains: string[];
  /** Registered sender addresses of relay mail (lower-case); NULL = none. */
  senderAddresses: string[];
  /** The senderDomains verified by their `_loginsign` TXT record. */
  senderDomainsVerified: string[];
  idTokenSigningAlg: IdTokenSigningAlg;
  /** AES-256-GCM sealed webhook secret: it must be read back to sign deliveries. */
  webhookSecretEnc: string;
  createdAt: Date;
  /** Only pushed authorization requests (RFC 9126) are accepted. */
  requirePushedAuthorizationRequests: boolean;
}

/** Columns an update may set. */
export type ApplicationPatch = Partial<
  Pick<
    StoredApplication,
    | 'name'
    | 'redirectUris'
    | 'webhookUrl'
    | 'logoUrl'
    | 'senderDomains'
    | 'senderAddresses'
    | 'senderDomainsVerified'
    | 'idTokenSigningAlg'
    | 'requirePushedAuthorizationRequests'
    | 'postLogoutRedirectUris'
  >
>;

interface ApplicationRow {
  id: string;
  developer_id: number | string;
  name: string;
  logo_url: string | null;
  client_id: string;
  client_secret_hash: Buffer | null;
  redirect_uris: string | null;
  type: ApplicationType;
  post_logout_redirect_uris: string | null;
  webhook_url: string | null;
  sender_domains: string | null;
  sender_addresses: string | null;
  sender_domains_verified: string | null;
  id_token_signing_alg: IdTokenSigningAlg;
  webhook_secret_enc: string;
  created_at: Date;
  require_pushed_authorization_requests: number;
}

const COLUMNS = `id, developer_id, name, logo_url, client_id, client_secret_hash, redirect_uris, webhook_url, sender_domains, sender_addresses, sender_domains_verified, id_token_signing_alg, webhook_secret_enc, created_at,
  require_pushed_authorization_requests, type, post_logout_redirect_uris`;

const list = (json: string | null): string[] => (json === null ? [] : (JSON.parse(json) as string[]));

const toStored = (r: ApplicationRow): StoredApplication => ({
  id: r.id,
  developerId: Number(r.developer_id),
  name: r.name,
  logoUrl: r.logo_url,
  clientId: r.client_id,
  clientSecretHash: r.client_secret_hash,
  redirectUris: list(r.redirect_uris),
  type: r.type,
  postLogoutRedirectUris: list(r.post_logout_redirect_uris),
  webhookUrl: r.webhook_url,
  senderDomains: list(r.sender_domains),
  senderAddresses: list(r.sender_addresses),
  senderDomainsVerified: list(r.sender_domains_verified),
  idTokenSigningAlg: r.id_token_signing_alg,
  webhookSecretEnc: r.webhook_secret_enc,
  createdAt: r.created_at,
  requirePushedAuthorizationRequests: !!r.require_pushed_authorization_requests,
});

const PATCH_COLUMNS: Record<keyof ApplicationPatch, string> = {
  name: 'name',
  redirectUris: 'redirect_uris',
  webhookUrl: 'webhook_url',
  logoUrl: 'logo_url',
  senderDomains: 'sender_domains',
  senderAddresses: 'sender_addresses',
  senderDomainsVerified: 'sender_domains_verified',
  idTokenSigningAlg: 'id_token_signing_alg',
  requirePushedAuthorizationRequests: 'require_pushed_authorization_requests',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
};
const JSON_FIELDS = new Set<keyof ApplicationPatch>(['redirectUris', 'senderDomains', 'senderAddresses', 'senderDomainsVerified', 'postLogoutRedirectUris']);

/** The SQL of `applications` (typed raw SQL, no entity). */
@Injectable()
export class ApplicationsRepository {
  constructor(private readonly db: DataSource) {}

  async insert(app: StoredApplication): Promise<void> {
    await this.db.query(
      `INSERT INTO applications (id, developer_id, name, logo_url, client_id, client_secret_hash, redirect_uris, webhook_url, sender_domains, sender_addresses, id_token_signing_alg, webhook_secret_enc, created_at,
         require_pushed_authorization_requests, type, post_logout_redirect_uris)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        app.id,
        app.developerId,
        app.name,
        app.logoUrl,
        app.clientId,
        app.clientSecretHash,
        JSON.stringify(app.redirectUris),
        app.webhookUrl,
        JSON.stringify(app.senderDomains),
        JSON.stringify(app.senderAddresses),
        app.idTokenSigningAlg,
        app.webhookSecretEnc,
        app.createdAt,
        app.requirePushedAuthorizationRequests,
        app.type,
        JSON.stringify(app.postLogoutRedirectUris),
      ],
    );
  }

  /** The developer's applications, newest first. */
  async listOf(developerId: number): Promise<StoredApplication[]> {
    const rows: ApplicationRow[] = await this.db.query(`SELECT ${COLUMNS} FROM applications WHERE developer_id = ? ORDER BY created_at DESC, id DESC`, [developerId]);
    return rows.map(toStored);
  }

  async findOwned(developerId: number, appId: string): Promise<StoredApplication | null> {
    const [row]: ApplicationRow[] = await this.db.query(`SELECT ${COLUMNS} FROM applications WHERE id = ? AND developer_id = ?`, [appId, developerId]);
    return row ? toStored(row) : null;
  }

  /** One lookup on the unique client_id index. */
  async findByClientId(clientId: string): Promise<StoredApplication | null> {
    const [row]: ApplicationRow[] = await this.db.query(`SELECT ${COLUMNS} FROM applications WHERE client_id = ?`, [clientId]);
    return row ? toStored(row) : null;
  }

  async update(appId: string, patch: ApplicationPatch): Promise<void> {
    const fields = Object.keys(patch) as (keyof ApplicationPatch)[];
    if (fields.length === 0) return;
    await this.db.query(`UPDATE applications SET ${fields.map((f) => `${PATCH_COLUMNS[f]} = ?`).join(', ')} WHERE id = ?`, [
      ...fields.map((f) => (JSON_FIELDS.has(f) ? JSON.stringify(patch[f]) : patch[f])),
      appId,
    ]);
  }

  async setClientSecretHash(appId: string, hash: Buffer): Promise<void> {
    await this.db.query(`UPDATE applications SET client_secret_hash = ? WHERE id = ?`, [hash, appId]);
  }

  async setWebhookSecretEnc(appId: string, sealed: string): Promise<void> {
    await this.db.query(`UPDATE applications SET webhook_secret_enc = ? WHERE id = ?`, [sealed, appId]);
  }

  /** Every registered redirect URI of the `spa` applications (their origins may call the token endpoint from a browser). */
  async spaRedirectUris(): Promise<string[]> {
    const rows: { redirect_uris: string | null }[] = await this.db.query(`SELECT redirect_uris FROM applications WHERE type = 'spa'`);
    return rows.flatMap((r) => list(r.redirect_uris));
  }

  /** Its connections and tokens go with it (ON DELETE CASCADE). */
  async delete(developerId: number, appId: string): Promise<void> {
    await this.db.query(`DELETE FROM applications WHERE id = ? AND developer_id = ?`, [appId, developerId]);
  }

  /** Disables (now) or re-enables the webhook endpoint; in the caller's transaction when one is given. */
  async setWebhookDisabled(appId: string, disabled: boolean, m: EntityManager = this.db.manager): Promise<void> {
    await m.query(`UPDATE applications SET webhook_disabled_at = ${disabled ? 'UTC_TIMESTAMP(3)' : 'NULL'} WHERE id = ?`, [appId]);
  }

  async webhookEndpoint(appId: string): Promise<{ webhookUrl: string | null; disabledAt: Date | null } | null> {
    const [row]: { webhook_url: string | null; webhook_disabled_at: Date | null }[] = await this.db.query(
      `SELECT webhook_url, webhook_disabled_at FROM applications WHERE id = ?`,
      [appId],
    );
    return row ? { webhookUrl: row.webhook_url, disabledAt: row.webhook_disabled_at } : null;
  }
}
