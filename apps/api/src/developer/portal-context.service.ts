import { Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Session } from '@app/common';
import { ApplicationsService, DeveloperRecord, DevelopersService } from '@app/developer';
import { CsrfService } from '../shared/csrf.service';
import { sessionOf, signInLocation } from '../shared/page-session.guard';
import { Form } from '../shared/pages';
import { SignInRequired } from '../shared/sign-in-required';
import { presentApplication } from './developer-applications.controller';
import { PortalApp } from './portal.view';

export interface PortalContext {
  session: Session;
  developer: DeveloperRecord;
  csrf: string;
}

/**
 * What every portal page behind `@PageSession('developer')` needs: the
 * signed-in developer, the form's CSRF check, a token for the next form.
 */
@Injectable()
export class PortalContextService {
  constructor(
    private readonly developers: DevelopersService,
    private readonly apps: ApplicationsService,
    private readonly csrf: CsrfService,
  ) {}

  async context(request: FastifyRequest, reply: FastifyReply, form?: Form): Promise<PortalContext> {
    const session = sessionOf(request);
    const developer = await this.developers.findById(session.subjectId);
    if (!developer) throw new SignInRequired(signInLocation('developer', request));
    if (form) this.csrf.verify(request, form._csrf);
    return { session, developer, csrf: this.csrf.issue(request, reply) };
  }

  /** The same for pages of one application, which must be the developer's (else 404). */
  async appContext(request: FastifyRequest, reply: FastifyReply, appId: string, form?: Form): Promise<PortalContext & { app: PortalApp }> {
    const context = await this.context(request, reply, form);
    return { ...context, app: presentApplication(await this.apps.getOwned(context.developer.id, appId)) };
  }
}
