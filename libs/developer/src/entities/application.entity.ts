import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './developer.entity';

/** Redirect URIs are kept as a JSON array in a TEXT column, in the order given. */
const jsonStringArray = {
  to: (value: string[] | undefined) => (value === undefined ? undefined : JSON.stringify(value)),
  from: (value: string | null) => (value === null ? [] : (JSON.parse(value) as string[])),
};

/** An OAuth client registered by a developer (table `applications`). */
@Entity('applications')
export class ApplicationEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Column({ name: 'developer_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  developerId: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'logo_url', type: 'varchar', length: 2048, nullable: true })
  logoUrl: string | null;

  @Column({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  /** SHA-256 of the client secret; the secret itself is never stored. */
  @Column({ name: 'client_secret_hash', type: 'binary', length: 32 })
  clientSecretHash: Buffer;

  @Column({ name: 'redirect_uris', type: 'text', transformer: jsonStringArray })
  redirectUris: string[];

  @Column({ name: 'webhook_url', type: 'varchar', length: 2048, nullable: true })
  webhookUrl: string | null;

  /** Registered senders of relay mail (lower-case domains); NULL = none. */
  @Column({ name: 'sender_domains', type: 'text', nullable: true, transformer: jsonStringArray })
  senderDomains: string[];

  /** Registered sender addresses of relay mail (lower-case); NULL = none. */
  @Column({ name: 'sender_addresses', type: 'text', nullable: true, transformer: jsonStringArray })
  senderAddresses: string[];

  /** Set when the endpoint asked to stop (410 Gone); cleared when the developer redelivers or pings. */
  @Column({ name: 'webhook_disabled_at', type: 'datetime', precision: 3, nullable: true })
  webhookDisabledAt: Date | null;

  /** AES-256-GCM sealed webhook secret: it must be read back to sign deliveries. */
  @Column({ name: 'webhook_secret_enc', type: 'varchar', length: 255 })
  webhookSecretEnc: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3, update: false })
  createdAt: Date;

  // Maintained by MySQL (ON UPDATE CURRENT_TIMESTAMP).
  @Column({ name: 'updated_at', type: 'datetime', precision: 3, insert: false, update: false })
  updatedAt: Date;
}
