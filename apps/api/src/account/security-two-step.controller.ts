import { Controller, Get, Header, Injectable, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@app/common';
import { AccountsService, TwoStepService } from '@app/identity';
import { FormBody } from '../shared/body';
import { CsrfService } from '../shared/csrf.service';
import { SafeHtml } from '../shared/html';
import { PageSession, sessionOf, signInLocation } from '../shared/page-session.guard';
import { Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { SignInRequired } from '../shared/sign-in-required';
import { AccountChrome } from './account-center.view';
import { recoveryCodesPage, twoStepPage, twoStepSection, twoStepSetupPage } from './security-two-step.view';

const FORM_ERRORS: ErrorCode[] = ['invalid_request', 'conflict', 'rate_limited'];

/** The two-step section of /account/security, for the page that composes the sections. */
@Injectable()
export class TwoStepSectionRenderer {
  constructor(private readonly twoStep: TwoStepService) {}

  async render(userId: number, csrf: string, globalId: string): Promise<SafeHtml> {
    const [enabled, unusedRecoveryCodes] = await Promise.all([this.twoStep.isEnabled(userId), this.twoStep.unusedRecoveryCodes(userId)]);
    return twoStepSection({ csrf, globalId, enabled, unusedRecoveryCodes });
  }
}

/**
 * Two-step sign-in settings (`/account/security/two-step/*`): set-up after the
 * password again, confirmation with a first code (then the recovery codes,
 * shown once), and turning it off with the password and a code.
 */
@Controller('account/security/two-step')
export class SecurityTwoStepController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly twoStep: TwoStepService,
    private readonly csrf: CsrfService,
  ) {}

  private async chrome(request: FastifyRequest, reply: FastifyReply, error?: string): Promise<{ userId: number; chrome: AccountChrome }> {
    const session = sessionOf(request);
    const account = await this.accounts.getAccount(session.subjectId);
    if (!account) throw new SignInRequired(signInLocation('user', request));
    return { userId: account.id, chrome: { csrf: this.csrf.issue(request, reply), name: account.name, globalId: account.globalId, error } };
  }

  private async sectionPage(request: FastifyRequest, reply: FastifyReply, status: number, error?: string) {
    const { userId, chrome } = await this.chrome(request, reply, error);
    const [enabled, unusedRecoveryCodes] = await Promise.all([this.twoStep.isEnabled(userId), this.twoStep.unusedRecoveryCodes(userId)]);
    return renderPage(reply, status, twoStepPage(chrome, { csrf: chrome.csrf, globalId: chrome.globalId, enabled, unusedRecoveryCodes }));
  }

  @PageSession('user')
  @Get()
  show(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.sectionPage(request, reply, 200);
  }

  @PageSession('user')
  @Post('setup')
  async setup(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const { userId, chrome } = await this.chrome(request, reply);
    try {
      await this.accounts.confirmPassword(userId, form.password, request.ip);
      const setup = await this.twoStep.beginSetup(userId);
      return renderPage(reply, 200, twoStepSetupPage(chrome, setup));
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return this.sectionPage(request, reply, e.status, formMessage(e));
    }
  }

  @PageSession('user')
  @Post('confirm')
  @Header('cache-control', 'no-store')
  async confirm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const { userId, chrome } = await this.chrome(request, reply);
    try {
      const codes = await this.twoStep.confirmSetup(userId, form.code);
      return renderPage(reply, 200, recoveryCodesPage(chrome, codes));
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      const pending = await this.twoStep.pendingSetup(userId);
      if (!pending) return this.sectionPage(request, reply, e.status, formMessage(e));
      return renderPage(reply, e.status, twoStepSetupPage({ ...chrome, error: formMessage(e) }, pending));
    }
  }

  @PageSession('user')
  @Post('disable')
  async disable(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const { userId } = await this.chrome(request, reply);
    try {
      await this.accounts.confirmPassword(userId, form.password, request.ip);
      await this.twoStep.disable(userId, form.code);
      return seeOther(reply, '/account/security?done=two-step-off');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return this.sectionPage(request, reply, e.status, formMessage(e));
    }
  }
}
