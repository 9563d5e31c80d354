import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { isoUtc, Session } from '@app/common';
import { ApplicationRecord, ApplicationsService, CreateApplicationDto, UpdateApplicationDto } from '@app/developer';
import { JsonBody } from '../shared/body';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session-auth';

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
    createdAt: isoUtc(app.createdAt),
  };
}

/** Responses that carry a secret must not be cached anywhere. */
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/** Developer Portal: the session's developer manages their applications. */
@Controller('api/developer/applications')
@UseGuards(DeveloperSessionGuard)
export class DeveloperApplicationsController {
  constructor(private readonly apps: ApplicationsService) {}

  @Post()
  async create(@CurrentSession() session: Session, @JsonBody() body: CreateApplicationDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const { application, clientSecret, webhookSecret } = await this.apps.create(session.subjectId, body);
    noStore(reply);
    const { createdAt, ...fields } = presentApplication(application);
    return { ...fields, clientSecret, webhookSecret, createdAt };
  }

  @Get()
  async list(@CurrentSession() session: Session) {
    return { applications: (await this.apps.list(session.subjectId)).map(presentApplication) };
  }

  @Get(':appId')
  async get(@CurrentSession() session: Session, @Param('appId') appId: string) {
    return presentApplication(await this.apps.getOwned(session.subjectId, appId));
  }

  @Patch(':appId')
  async update(@CurrentSession() session: Session, @Param('appId') appId: string, @JsonBody() body: UpdateApplicationDto) {
    return presentApplication(await this.apps.update(session.subjectId, appId, body));
  }

  @Delete(':appId')
  @HttpCode(204)
  async remove(@CurrentSession() session: Session, @Param('appId') appId: string) {
    await this.apps.remove(session.subjectId, appId);
  }

  @Post(':appId/client-secret')
  @HttpCode(200)
  async rotateClientSecret(@CurrentSession() session: Session, @Param('appId') appId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    noStore(reply);
    return this.apps.rotateClientSecret(session.subjectId, appId);
  }

  @Post(':appId/webhook-secret')
  @HttpCode(200)
  async rotateWebhookSecret(@CurrentSession() session: Session, @Param('appId') appId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    noStore(reply);
    return this.apps.rotateWebhookSecret(session.subjectId, appId);
  }
}
