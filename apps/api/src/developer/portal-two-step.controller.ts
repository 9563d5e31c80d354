import { Controller, Get, Logger, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@app/common';
import { DevelopersService, DeveloperTwoStepService } from '@app/developer';
import { MailerService, TWO_STEP_NOTICES } from '@app/identity';
import { twoStepSection, recoveryCodesBody, twoStepSetupBody } from '../account/security-two-step.view';
import { secondStepPage } from '../account/login-second-step.view';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { html } from '../shared/html';
import { LoginSecondStep } from '../shared/login-second-step.service';
import { PageSession } from '../shared/page-session.guard';
import { field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { PortalContext, PortalContextService } from './portal-context.service';
import { notice, portalPage } from './portal.view';

const FORM_ERRORS: ErrorCode[] = ['invalid_request', 'conflict', 'rate_limited'];
const BASE = '/developer/security/two-step';

/**
 * Two-step sign-in for developer accounts, the same mechanism as end users':
 * `/developer/security` (set up with the password again, confirm with a
 * code, recovery codes shown once, turn off with the password and a code)
 * and the portal login's second step `/developer/login/two-step`.
 */
@Controller('developer')
export class PortalTwoStepController {
  private readonly logger = new Logger('two-step');

  constructor(
    private readonly developers: DevelopersService,
    private readonly twoStep: DeveloperTwoStepService,
    private readonly context: PortalContextService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    private readonly secondStep: LoginSecondStep,
    private readonly mailer: MailerService,
  ) {}

  /** The notice of a two-step change, to the developer's address; a failed send never undoes the change. */
  private async notify(email: string, kind: 'two-step-on' | 'two-step-off'): Promise<void> {
    try {
      await this.mailer.send({ to: email, ...TWO_STEP_NOTICES[kind] });
    } catch (error) {
      this.logger.warn(`notice ${kind} not sent: ${(error as Error).message}`);
    }
  }

  @Get('login/two-step')
  async codeForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!(await this.secondStep.current(request, 'developer'))) return seeOther(reply, '/developer/login');
    return renderPage(reply, 200, secondStepPage({ csrf: this.csrf.issue(request, reply), action: '/developer/login/two-step' }));
  }

  @Post('login/two-step')
  async code(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const pending = await this.secondStep.current(request, 'developer');
    if (!pending) return seeOther(reply, '/developer/login');
    try {
      const amr = await this.developers.checkSecondStep(pending.userId, field(form, 'code'), request.ip);
      if (!(await this.secondStep.finish(reply, pending.handle))) return seeOther(reply, '/developer/login');
      await this.sessions.start(request, reply, 'developer', pending.userId, amr);
      return seeOther(reply, pending.returnTo);
    } catch (error) {
      const e = formError(error, reply, ['invalid_credentials', 'rate_limited']);
      return renderPage(reply, e.status, secondStepPage({ csrf: this.csrf.issue(request, reply), action: '/developer/login/two-step', error: formMessage(e) }));
    }
  }

  private async securityPage(reply: FastifyReply, c: PortalContext, status: number, message?: { text: string; kind: 'ok' | 'error' }) {
    const id = c.developer.id;
    const [enabled, unusedRecoveryCodes] = await Promise.all([this.twoStep.isEnabled(id), this.twoStep.unusedRecoveryCodes(id)]);
    const body = html`<h1>Security</h1>
      ${message ? notice(message.text, message.kind) : ''} ${twoStepSection({ csrf: c.csrf, globalId: c.developer.email, base: BASE, enabled, unusedRecoveryCodes })}`;
    return renderPage(reply, status, portalPage('Security', c.developer, c.csrf, body));
  }

  @PageSession('developer')
  @Get('security')
  async security(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const c = await this.context.context(request, reply);
    const done = (request.query as Record<string, unknown>).done;
    return this.securityPage(reply, c, 200, done === 'two-step-off' ? { text: 'Two-step sign-in is off.', kind: 'ok' } : undefined);
  }

  @PageSession('developer')
  @Post('security/two-step/setup')
  async setup(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const c = await this.context.context(request, reply, form);
    try {
      await this.developers.confirmPassword(c.developer.id, form.password, request.ip);
      const setup = await this.twoStep.beginSetup(c.developer.id, c.developer.email);
      return renderPage(reply, 200, portalPage('Set up an authenticator app', c.developer, c.csrf, twoStepSetupBody(c.csrf, setup, BASE)));
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return this.securityPage(reply, c, e.status, { text: formMessage(e), kind: 'error' });
    }
  }

  @PageSession('developer')
  @Post('security/two-step/confirm')
  async confirm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const c = await this.context.context(request, reply, form);
    try {
      const codes = await this.twoStep.confirmSetup(c.developer.id, form.code);
      await this.notify(c.developer.email, 'two-step-on');
      return renderPage(reply, 200, portalPage('Your recovery codes', c.developer, c.csrf, recoveryCodesBody(codes, '/developer/security')));
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      const pending = await this.twoStep.pendingSetup(c.developer.id, c.developer.email);
      if (!pending) return this.securityPage(reply, c, e.status, { text: formMessage(e), kind: 'error' });
      const body = html`${notice(formMessage(e), 'error')} ${twoStepSetupBody(c.csrf, pending, BASE)}`;
      return renderPage(reply, e.status, portalPage('Set up an authenticator app', c.developer, c.csrf, body));
    }
  }

  @PageSession('developer')
  @Post('security/two-step/disable')
  async disable(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const c = await this.context.context(request, reply, form);
    try {
      await this.developers.confirmPassword(c.developer.id, form.password, request.ip);
      await this.twoStep.disable(c.developer.id, form.code);
      await this.notify(c.developer.email, 'two-step-off');
      return seeOther(reply, '/developer/security?done=two-step-off');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return this.securityPage(reply, c, e.status, { text: formMessage(e), kind: 'error' });
    }
  }
}
