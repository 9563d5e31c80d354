import { Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { isoUtc, Session } from '@app/common';
import { ApplicationRecord, ApplicationsService, CreateApplicationDto, UpdateApplicationDto } from '@app/developer';
import { JsonBody } from '../shared/body';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session.guard';
import { ApiEndpoint } from '../shared/openapi';
import { Application, ApplicationList, CreatedApplication, RotatedClientSecret, RotatedWebhookSecret } from './developer.schemas';

/** The application object of the portal API: never a secret. */
export function presentApplication(app: ApplicationRecord) {
  return {
    id: app.id,
    name: app.name,
    clientId: app.clientId,
    redirectUris: app.redirectUris,
    webhookUrl: app.webhookUrl,
    logoUrl: app.logoUrl,
    senderDomains: app.senderDomains,
    senderAddresses: app.senderAddresses,
    senderDomainVerifications: app.senderDomainVerifications,
    idTokenSigningAlg: app.idTokenSigningAlg,
    requirePushedAuthorizationRequests: app.requirePushedAuthorizationRequests,
    type: app.type,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    createdAt: isoUtc(app.createdAt),
  };
}

/** Developer Portal: the session's developer manages their applications. */
@Controller('api/developer/applications')
@UseGuards(DeveloperSessionGuard)
export class DeveloperApplicationsController {
  constructor(private readonly apps: ApplicationsService) {}

  /** Responses that carry a secret must not be cached anywhere. */
  @ApiEndpoint({ summary: 'Register an application (its secrets are shown only here)', auth: 'developerOrKey', body: CreateApplicationDto, response: CreatedApplication })
  @Post()
  @Header('cache-control', 'no-store')
  async create(@CurrentSession() session: Session, @JsonBody() body: CreateApplicationDto) {
    const { application, clientSecret, webhookSecret } = await this.apps.create(session.subjectId, body);
    const { createdAt, ...fields } = presentApplication(application);
    return { ...fields, clientSecret, webhookSecret, createdAt };
  }

  @ApiEndpoint({ summary: "The developer's applications", auth: 'developerOrKey', response: ApplicationList })
  @Get()
  async list(@CurrentSession() session: Session) {
    return { applications: (await this.apps.list(session.subjectId)).map(presentApplication) };
  }

  @ApiEndpoint({ summary: 'One application', auth: 'developerOrKey', response: Application })
  @Get(':appId')
  async get(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return presentApplication(await this.apps.getOwned(session.subjectId, appId));
  }

  @ApiEndpoint({
    summary: 'Change an application (absent fields stay, null clears webhookUrl and logoUrl)',
    auth: 'developerOrKey',
    body: UpdateApplicationDto,
    response: Application,
  })
  @Patch(':appId')
  async update(@CurrentSession() session: Session, @Param('appId') appId: string, @JsonBody() body: UpdateApplicationDto) {
    return presentApplication(await this.apps.update(session.subjectId, appId, body));
  }

  @ApiEndpoint({ summary: 'Delete an application', auth: 'developerOrKey', response: null })
  @Delete(':appId')
  @HttpCode(204)
  async remove(@CurrentSession() session: Session, @Param('appId') appId: string) {
    await this.apps.remove(session.subjectId, appId);
  }

  @ApiEndpoint({
    summary: 'Verify a sender domain by its TXT record (_loginsign.<domain>)',
    auth: 'developerOrKey',
    response: {
      type: 'object',
      properties: { domain: { type: 'string' }, verified: { type: 'boolean', enum: [true] } },
      required: ['domain', 'verified'],
      additionalProperties: false,
    },
  })
  /** 200 once `_loginsign.<domain>` carries the application's value; 400 while it does not; 404 for a domain not in senderDomains. */
  @Post(':appId/sender-domains/:domain/verify')
  @HttpCode(200)
  async verifySenderDomain(@CurrentSession() session: Session, @Param('appId') appId: string, @Param('domain') domain: string) {
    return this.apps.verifySenderDomain(session.subjectId, appId, domain);
  }

  @ApiEndpoint({ summary: 'Rotate the client secret (the old one stops working; public clients have none: 400)', auth: 'developerOrKey', response: RotatedClientSecret })
  @Post(':appId/client-secret')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  async rotateClientSecret(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return this.apps.rotateClientSecret(session.subjectId, appId);
  }

  @ApiEndpoint({ summary: 'Rotate the webhook secret', auth: 'developerOrKey', response: RotatedWebhookSecret })
  @Post(':appId/webhook-secret')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  async rotateWebhookSecret(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return this.apps.rotateWebhookSecret(session.subjectId, appId);
  }
}
