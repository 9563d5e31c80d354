import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { DeveloperLoginDto, DeveloperSignupDto, DevelopersService } from '@app/developer';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { LoginSecondStep } from '../shared/login-second-step.service';
import { developerLoginPage, developerSignupPage } from './portal.view';
import { PORTAL_HOME, portalReturnTo } from '../shared/return-to';
import { field, Form, formError, formMessage, renderPage, seeOther, validated } from '../shared/pages';

/** Developer Portal pages: sign-up, sign-in, sign-out (DevelopersService, as the JSON API). */
@Controller('developer')
export class PortalAccountController {
  constructor(
    private readonly developers: DevelopersService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    private readonly secondStep: LoginSecondStep,
  ) {}

  @Get()
  async home(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return seeOther(reply, (await this.sessions.current(request, 'developer')) ? PORTAL_HOME : '/developer/login');
  }

  @Get('signup')
  signupForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return renderPage(reply, 200, developerSignupPage({ csrf: this.csrf.issue(request, reply) }));
  }

  @Post('signup')
  async signup(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const input = { name: field(form, 'name'), email: field(form, 'email'), password: field(form, 'password') };
    try {
      const developer = await this.developers.signup(await validated(DeveloperSignupDto, input), request.ip);
      await this.sessions.start(request, reply, 'developer', developer.id);
      return seeOther(reply, PORTAL_HOME);
    } catch (error) {
      const e = formError(error, reply, ['invalid_request', 'conflict', 'rate_limited']);
      return renderPage(reply, e.status, developerSignupPage({ csrf: this.csrf.issue(request, reply), name: input.name, email: input.email, error: formMessage(e) }));
    }
  }

  @Get('login')
  loginForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('return_to') returnTo: unknown) {
    const target = portalReturnTo(returnTo);
    return renderPage(reply, 200, developerLoginPage({ csrf: this.csrf.issue(request, reply), returnTo: target === PORTAL_HOME ? undefined : target }));
  }

  /** Throttled and answered exactly like `POST /api/developer/login` (DevelopersService.login). */
  @Post('login')
  async login(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const target = portalReturnTo(form.return_to);
    const email = field(form, 'email');
    try {
      const input = await validated(DeveloperLoginDto, { email, password: field(form, 'password') });
      const developer = await this.developers.login(input.email, input.password, request.ip, 'defer');
      if (developer.secondStepPending) return this.secondStep.begin(reply, 'developer', developer.id, target);
      await this.sessions.start(request, reply, 'developer', developer.id, developer.amr);
      return seeOther(reply, target);
    } catch (error) {
      const e = formError(error, reply, ['invalid_request', 'invalid_credentials', 'rate_limited']);
      const message = e.code === 'invalid_request' ? 'Enter your email and password.' : formMessage(e);
      return renderPage(
        reply,
        e.status,
        developerLoginPage({ csrf: this.csrf.issue(request, reply), returnTo: target === PORTAL_HOME ? undefined : target, email, error: message }),
      );
    }
  }

  @Post('logout')
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    await this.sessions.end(request, reply, 'developer');
    return seeOther(reply, '/developer/login');
  }
}
