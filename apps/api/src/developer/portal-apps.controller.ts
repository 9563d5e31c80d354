import { Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApplicationRecord, ApplicationsService, CreateApplicationDto, UpdateApplicationDto } from '@app/developer';
import { FormBody } from '../shared/body';
import { presentApplication } from './developer-applications.controller';
import { AppFormValues, appPath, appSettingsPage, appsListPage, credentialsPage, deleteAppPage, newAppPage, PortalApp } from './portal.view';
import { integratePage } from './portal-integrate.view';
import { PORTAL_HOME } from '../shared/return-to';
import { doneNotice, field, FieldLabels, Form, formError, formMessage, renderPage, seeOther, validated } from '../shared/pages';
import { PageSession } from '../shared/page-session.guard';
import { PortalContextService } from './portal-context.service';
import { SecretReveal } from './secret-reveal';

const MESSAGES: Record<string, string> = {
  saved: 'Changes saved.',
  deleted: 'Application deleted.',
};

const message = (key: unknown) => doneNotice(MESSAGES, key);

/** The application object as the JSON API presents it. */
const present = (app: ApplicationRecord): PortalApp => presentApplication(app);

/** The API's field names as the form's labels say them ("redirectUris[0]" -> "Redirect URI 1"). */
const APP_LABELS: FieldLabels = {
  name: 'Application name',
  redirectUris: 'Redirect URIs',
  'redirectUris[]': 'Redirect URI',
  webhookUrl: 'Webhook URL',
  logoUrl: 'Logo URL',
  type: 'Application type',
  postLogoutRedirectUris: 'Return addresses after sign-out',
  'postLogoutRedirectUris[]': 'Return address after sign-out',
};

const lines = (value: string | undefined) =>
  (value ?? '')
    .split(/\r?\n/)
    .map((u) => u.trim())
    .filter(Boolean);

function formValues(form: Form): AppFormValues {
  return {
    name: field(form, 'name'),
    redirectUris: field(form, 'redirectUris'),
    webhookUrl: field(form, 'webhookUrl'),
    logoUrl: field(form, 'logoUrl'),
    type: form.type === undefined ? undefined : field(form, 'type'),
    postLogoutRedirectUris: field(form, 'postLogoutRedirectUris'),
  };
}

/** The form as the JSON body would be: redirect URIs one per line, an empty optional URL = none. */
function asJsonBody(values: AppFormValues): Record<string, unknown> {
  return {
    name: values.name,
    redirectUris: lines(values.redirectUris),
    webhookUrl: values.webhookUrl?.trim() ? values.webhookUrl.trim() : null,
    logoUrl: values.logoUrl?.trim() ? values.logoUrl.trim() : null,
    ...(values.type !== undefined ? { type: values.type } : {}),
    postLogoutRedirectUris: lines(values.postLogoutRedirectUris),
  };
}

/** Developer Portal pages for applications: list, create, settings, secrets, delete, integrate. */
@Controller('developer/apps')
@PageSession('developer')
export class PortalAppsController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly sessions: PortalContextService,
    private readonly reveal: SecretReveal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    const apps = (await this.apps.list(developer.id)).map(present);
    return renderPage(reply, 200, appsListPage(developer, csrf, apps, message(done)));
  }

  @Get('new')
  async newForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    return renderPage(reply, 200, newAppPage(developer, csrf));
  }

  @Post()
  async create(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const { session, developer, csrf } = await this.sessions.context(request, reply, form);
    const values = formValues(form);
    try {
      const body = await validated(CreateApplicationDto, asJsonBody(values));
      const { application, clientSecret, webhookSecret } = await this.apps.create(developer.id, body);
      await this.reveal.put(session, application.id, { kind: 'created', clientSecret: clientSecret ?? undefined, webhookSecret });
      return seeOther(reply, appPath(application.id, '/credentials'));
    } catch (error) {
      const e = formError(error, reply, ['invalid_request']);
      return renderPage(reply, e.status, newAppPage(developer, csrf, values, formMessage(e, APP_LABELS)));
    }
  }

  @Get(':appId')
  async settings(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @Query('done') done: unknown) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    const app = present(await this.apps.getOwned(developer.id, appId));
    return renderPage(reply, 200, appSettingsPage(developer, csrf, app, { message: message(done) }));
  }

  @Post(':appId')
  async update(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @FormBody() form: Form) {
    const { developer, csrf } = await this.sessions.context(request, reply, form);
    const app = present(await this.apps.getOwned(developer.id, appId));
    const values = formValues(form);
    try {
      await this.apps.update(developer.id, app.id, await validated(UpdateApplicationDto, asJsonBody(values)));
      return seeOther(reply, appPath(app.id, '?done=saved'));
    } catch (error) {
      const e = formError(error, reply, ['invalid_request']);
      return renderPage(reply, e.status, appSettingsPage(developer, csrf, app, { error: formMessage(e, APP_LABELS), values }));
    }
  }

  /** The page right after creation or rotation: the secrets, once. */
  @Get(':appId/credentials')
  async credentials(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string) {
    const { session, developer, csrf } = await this.sessions.context(request, reply);
    const app = present(await this.apps.getOwned(developer.id, appId));
    const secrets = await this.reveal.take(session, app.id);
    if (!secrets) return seeOther(reply, appPath(app.id));
    return renderPage(reply, 200, credentialsPage(developer, csrf, app, secrets));
  }

  @Post(':appId/client-secret')
  async rotateClientSecret(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @FormBody() form: Form) {
    const { session, developer } = await this.sessions.context(request, reply, form);
    const { clientSecret } = await this.apps.rotateClientSecret(developer.id, appId);
    await this.reveal.put(session, appId, { kind: 'client', clientSecret });
    return seeOther(reply, appPath(appId, '/credentials'));
  }

  @Post(':appId/webhook-secret')
  async rotateWebhookSecret(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @FormBody() form: Form) {
    const { session, developer } = await this.sessions.context(request, reply, form);
    const { webhookSecret } = await this.apps.rotateWebhookSecret(developer.id, appId);
    await this.reveal.put(session, appId, { kind: 'webhook', webhookSecret });
    return seeOther(reply, appPath(appId, '/credentials'));
  }

  @Get(':appId/delete')
  async confirmDelete(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    const app = present(await this.apps.getOwned(developer.id, appId));
    return renderPage(reply, 200, deleteAppPage(developer, csrf, app));
  }

  @Post(':appId/delete')
  async remove(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @FormBody() form: Form) {
    const { developer } = await this.sessions.context(request, reply, form);
    await this.apps.remove(developer.id, appId);
    return seeOther(reply, `${PORTAL_HOME}?done=deleted`);
  }

  @Get(':appId/integrate')
  async integrate(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string) {
    const { developer, csrf } = await this.sessions.context(request, reply);
    const app = present(await this.apps.getOwned(developer.id, appId));
    return renderPage(reply, 200, integratePage(developer, csrf, { publicUrl: this.config.publicUrl, app }));
  }
}
