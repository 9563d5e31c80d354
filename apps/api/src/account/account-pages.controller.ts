import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AccountsService } from '@app/identity';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { safeReturnTo } from '../shared/return-to';
import { FormState, loginPage, signUpPage } from './account-pages.view';
import { LoginSecondStep } from '../shared/login-second-step.service';

/** The end-user pages: sign-up, login, logout (the account center is AccountCenterController). */
@Controller()
export class AccountPagesController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    private readonly secondStep: LoginSecondStep,
  ) {}

  @Get()
  async home(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return seeOther(reply, (await this.sessions.current(request, 'user')) ? '/account' : '/login');
  }

  @Get('signup')
  signUpForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('return_to') returnTo: unknown) {
    return renderPage(reply, 200, signUpPage({ csrf: this.csrf.issue(request, reply), returnTo: safeReturnTo(returnTo) }));
  }

  @Post('signup')
  async signUp(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const returnTo = safeReturnTo(form.return_to);
    const input = { name: field(form, 'name'), email: field(form, 'email'), password: field(form, 'password'), region: field(form, 'region') };
    try {
      const account = await this.accounts.signUp(input, request.ip);
      await this.sessions.start(request, reply, 'user', account.id);
      return seeOther(reply, returnTo);
    } catch (error) {
      const e = formError(error, reply, ['invalid_request', 'conflict', 'rate_limited', 'temporarily_unavailable']);
      const state: FormState = { csrf: this.csrf.issue(request, reply), returnTo, name: input.name, email: input.email, region: input.region, error: formMessage(e) };
      return renderPage(reply, e.status, signUpPage(state));
    }
  }

  /** `login_hint` (OIDC, passed on by /oauth/authorize) fills the email field; the page escapes it. */
  @Get('login')
  loginForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('return_to') returnTo: unknown, @Query('login_hint') loginHint: unknown) {
    const email = typeof loginHint === 'string' ? loginHint.slice(0, 320) : undefined;
    return renderPage(reply, 200, loginPage({ csrf: this.csrf.issue(request, reply), returnTo: safeReturnTo(returnTo), email }));
  }

  @Post('login')
  async login(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const returnTo = safeReturnTo(form.return_to);
    const email = field(form, 'email');
    try {
      const account = await this.accounts.verifyLogin(email, field(form, 'password'), request.ip, 'defer');
      if (account.secondStepPending) return this.secondStep.begin(reply, 'user', account.id, returnTo);
      await this.sessions.start(request, reply, 'user', account.id, account.amr);
      return seeOther(reply, returnTo);
    } catch (error) {
      const e = formError(error, reply, ['invalid_credentials', 'rate_limited']);
      return renderPage(reply, e.status, loginPage({ csrf: this.csrf.issue(request, reply), returnTo, email, error: formMessage(e) }));
    }
  }

  @Post('logout')
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    await this.sessions.end(request, reply, 'user');
    return seeOther(reply, '/login');
  }
}
