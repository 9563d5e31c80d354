import { ApiProperty } from '@nestjs/swagger';

/** Response bodies of the Developer Portal JSON API, as /openapi.json describes them. */

export class DeveloperSummary {
  @ApiProperty()
  id: number;
  @ApiProperty()
  name: string;
  @ApiProperty()
  email: string;
}

export class DeveloperProfile extends DeveloperSummary {
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

/** The application object: never a secret. */
export class SenderDomainVerification {
  @ApiProperty()
  domain: string;
  @ApiProperty({ description: 'The TXT record name: _loginsign.<domain>.' })
  name: string;
  @ApiProperty({ description: 'The TXT record value: loginsign-verification=<token>.' })
  value: string;
  @ApiProperty()
  verified: boolean;
}

export class Application {
  @ApiProperty()
  id: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ description: 'Public.' })
  clientId: string;
  @ApiProperty({ type: [String] })
  redirectUris: string[];
  @ApiProperty({ type: String, nullable: true })
  webhookUrl: string | null;
  @ApiProperty({ type: String, nullable: true })
  logoUrl: string | null;
  @ApiProperty({ type: [String], description: 'Registered sender domains of relay mail.' })
  senderDomains: string[];
  @ApiProperty({ type: [String], description: 'Registered sender addresses of relay mail.' })
  senderAddresses: string[];
  @ApiProperty({ type: [SenderDomainVerification], description: 'The TXT record that verifies each sender domain; only verified domains are used.' })
  senderDomainVerifications: SenderDomainVerification[];
  @ApiProperty({ enum: ['RS256', 'ES256'], description: 'How id_tokens are signed (RS256 unless set to ES256).' })
  idTokenSigningAlg: string;
  @ApiProperty({ description: 'Only pushed authorization requests (RFC 9126, POST /oauth/par) are accepted.' })
  requirePushedAuthorizationRequests: boolean;
  @ApiProperty({ enum: ['web', 'spa', 'native'], description: 'Set at creation: web is a confidential client; spa and native are public clients (no secret, PKCE S256 required).' })
  type: string;
  @ApiProperty({ type: [String], description: 'Where RP-initiated logout may send the browser back to.' })
  postLogoutRedirectUris: string[];
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

/** The application at creation: the only time its secrets are shown. */
export class CreatedApplication extends Application {
  @ApiProperty({ type: String, nullable: true, description: 'Shown once; stored only as a hash. null for public clients (spa, native).' })
  clientSecret: string | null;
  @ApiProperty({ description: 'whsec_ + base64 of 32 random bytes; shown once.', pattern: '^whsec_' })
  webhookSecret: string;
}

export class ApplicationList {
  @ApiProperty({ type: [Application] })
  applications: Application[];
}

export class RotatedClientSecret {
  @ApiProperty()
  clientId: string;
  @ApiProperty({ description: 'Shown once; the old secret stops working.' })
  clientSecret: string;
}

export class RotatedWebhookSecret {
  @ApiProperty({ pattern: '^whsec_' })
  webhookSecret: string;
}

/** A user of an application as the developer sees it (the seed's fields plus isForwarding). */
export class ApplicationUser {
  @ApiProperty({ description: 'The connection id (the `id` of GET /api/user).' })
  id: string;
  @ApiProperty({ pattern: '^[A-Z]{2}[0-9]{4}$', example: 'AB1234' })
  globalId: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ description: 'The address shared with the app, or "-" when none is.' })
  email: string;
  @ApiProperty({ description: "True while the user's consent stands." })
  active: boolean;
  @ApiProperty()
  blocked: boolean;
  @ApiProperty()
  emailMuted: boolean;
  @ApiProperty()
  isForwarding: boolean;
  @ApiProperty({ type: 'integer', minimum: 0 })
  sessions: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastSession: string | null;
  @ApiProperty({ format: 'date-time' })
  joined: string;
  @ApiProperty({ example: 'Germany' })
  region: string;
}

export class ApplicationUserList {
  @ApiProperty({ type: [ApplicationUser], description: 'Newest `joined` first.' })
  users: ApplicationUser[];
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Size of the filtered set; with a search, exact up to 1,000 matches, above that 1,000 with `totalIsLowerBound`.' })
  total: number;
  @ApiProperty({
    type: Boolean,
    enum: [true],
    required: false,
    description: 'Present (true) when a search matched more than 1,000 users: `total` is then a lower bound ("1,000+").',
  })
  totalIsLowerBound?: true;
  @ApiProperty({ type: String, nullable: true, description: 'null on the last page.' })
  nextCursor: string | null;
}

export class WebhookEndpoint {
  @ApiProperty({ type: String, nullable: true })
  webhookUrl: string | null;
  @ApiProperty()
  enabled: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  disabledAt: string | null;
}

export class WebhookDelivery {
  @ApiProperty({ description: 'The event id (webhook-id).' })
  id: string;
  @ApiProperty({ example: 'user_connected' })
  type: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  status: string;
  @ApiProperty({ type: 'integer', minimum: 0 })
  attempts: number;
  @ApiProperty({ type: 'integer', nullable: true })
  lastStatusCode: number | null;
  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  createdAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  deliveredAt: string | null;
}

export class WebhookDeliveryList {
  @ApiProperty({ type: [WebhookDelivery], description: 'Newest first.' })
  deliveries: WebhookDelivery[];
  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}

export class WebhookAttempt {
  @ApiProperty({ type: 'integer', minimum: 1 })
  attempt: number;
  @ApiProperty()
  url: string;
  @ApiProperty({ type: 'integer', nullable: true })
  statusCode: number | null;
  @ApiProperty({ type: 'integer', minimum: 0 })
  durationMs: number;
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  @ApiProperty({ type: String, nullable: true })
  responseExcerpt: string | null;
  @ApiProperty({ format: 'date-time' })
  at: string;
}

export class WebhookDeliveryDetail extends WebhookDelivery {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event as sent: {type, timestamp, data}.' })
  payload: Record<string, unknown>;
  @ApiProperty({ type: [WebhookAttempt] })
  attemptLog: WebhookAttempt[];
}

export class QueuedPing {
  @ApiProperty({ description: 'The ping event id.' })
  id: string;
}

export class ApiKey {
  @ApiProperty()
  id: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastUsedAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  expiresAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  revokedAt: string | null;
}

export class CreatedApiKey extends ApiKey {
  @ApiProperty({ description: 'lsk_ + 43 characters; shown once, stored only as a SHA-256.', pattern: '^lsk_' })
  key: string;
}

export class ApiKeyList {
  @ApiProperty({ type: [ApiKey] })
  apiKeys: ApiKey[];
}
