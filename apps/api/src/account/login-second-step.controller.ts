import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AccountsService } from '@app/identity';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { LoginSecondStep } from '../shared/login-second-step.service';
import { secondStepPage } from './login-second-step.view';

/**
 * `/login/two-step`: the code of a login whose password was right. Only the
 * browser holding the pending-login cookie gets here; the session starts
 * once the code is accepted.
 */
@Controller('login/two-step')
export class LoginSecondStepController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    private readonly secondStep: LoginSecondStep,
  ) {}

  @Get()
  async form(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!(await this.secondStep.current(request, 'user'))) return seeOther(reply, '/login');
    return renderPage(reply, 200, secondStepPage({ csrf: this.csrf.issue(request, reply) }));
  }

  @Post()
  async submit(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const pending = await this.secondStep.current(request, 'user');
    if (!pending) return seeOther(reply, '/login');
    try {
      const codeAmr = await this.accounts.checkSecondStep(pending.userId, field(form, 'code'), request.ip);
      const amr = pending.amr ? [...pending.amr, 'otp', 'mfa'] : codeAmr;
      if (!(await this.secondStep.finish(reply, pending.handle))) return seeOther(reply, '/login');
      await this.sessions.start(request, reply, 'user', pending.userId, amr);
      return seeOther(reply, pending.returnTo);
    } catch (error) {
      const e = formError(error, reply, ['invalid_credentials', 'rate_limited']);
      return renderPage(reply, e.status, secondStepPage({ csrf: this.csrf.issue(request, reply), error: formMessage(e) }));
    }
  }
}
