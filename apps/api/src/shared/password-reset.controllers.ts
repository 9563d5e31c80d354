import { CanActivate, Controller, Get, Header, HttpCode, Inject, Post, Query, Req, Res, Type, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ForgotPasswordDto, ResetPasswordDto } from '@app/identity';
import { FormBody, JsonBody } from './body';
import { ApiEndpoint } from './openapi';
import { CsrfService } from './csrf.service';
import { field, Form, formError, formMessage, renderPage, seeOther } from './pages';
import { forgotPasswordPage, resetLinkUnusablePage, resetPasswordPage, ResetPages } from './password-reset.view';

/** What a kind of account's reset service offers the controllers (end users' and developers' alike). */
export interface ResetFlow {
  request(rawEmail: unknown, ip: string): Promise<void>;
  peek(token: unknown): Promise<string | null>;
  complete(token: unknown, rawPassword: unknown): Promise<void>;
}

export interface ResetControllersOptions {
  /** The reset service of this kind of account (a provider of the module). */
  service: Type<ResetFlow>;
  /** The guard of the JSON writes (same-site check). */
  guard: Type<CanActivate>;
  /** Path of the JSON endpoints (`forgot`, `reset` under it). */
  apiPath: string;
  /** Path of the pages (`forgot`, `reset` under it). */
  pagesPath: string;
  /** Look of the pages; `pages.base` prefixes the login page the finished reset goes to. */
  pages: ResetPages;
}

/**
 * The forgotten-password endpoints of one kind of account: the JSON pair
 * (the same answer for every address) and the pages (`<base>/password/forgot`
 * and the mailed `<base>/password/reset?token=..`). Each kind extends the two
 * classes under its own names and registers them in its module.
 */
export function passwordResetControllers(options: ResetControllersOptions) {
  const PAGES = options.pages;
  const loginPath = `${PAGES.base}/login`;

  @Controller(options.apiPath)
  class ResetApiController {
    constructor(@Inject(options.service) private readonly resets: ResetFlow) {}

    @ApiEndpoint({
      summary: 'Mail a password reset link (the same 202 for every address)',
      body: ForgotPasswordDto,
      response: { type: 'object', additionalProperties: false },
      errors: ['forbidden', 'rate_limited'],
    })
    @Post('forgot')
    @HttpCode(202)
    @Header('cache-control', 'no-store')
    @UseGuards(options.guard)
    async forgot(@Req() request: FastifyRequest, @JsonBody() body: ForgotPasswordDto) {
      await this.resets.request(body.email, request.ip);
      return {};
    }

    @ApiEndpoint({ summary: 'Set a new password with a mailed reset link (ends every session)', body: ResetPasswordDto, response: null, errors: ['forbidden'] })
    @Post('reset')
    @HttpCode(204)
    @Header('cache-control', 'no-store')
    @UseGuards(options.guard)
    async reset(@JsonBody() body: ResetPasswordDto) {
      await this.resets.complete(body.token, body.password);
    }
  }

  @Controller(options.pagesPath)
  class ResetPagesController {
    constructor(
      @Inject(options.service) private readonly resets: ResetFlow,
      private readonly csrf: CsrfService,
    ) {}

    @Get('forgot')
    forgotForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
      return renderPage(reply, 200, forgotPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply) }));
    }

    @Post('forgot')
    async forgot(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
      this.csrf.verify(request, form._csrf);
      const email = field(form, 'email');
      try {
        await this.resets.request(email, request.ip);
        return renderPage(reply, 200, forgotPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply), done: true }));
      } catch (error) {
        const e = formError(error, reply, ['invalid_request', 'rate_limited']);
        return renderPage(reply, e.status, forgotPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply), email, error: formMessage(e) }));
      }
    }

    /** The token stays out of Referer headers; an unusable link says so without spending anything. */
    @Get('reset')
    @Header('referrer-policy', 'no-referrer')
    async resetForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('token') token: unknown) {
      const email = await this.resets.peek(token);
      if (email === null || typeof token !== 'string') return renderPage(reply, 400, resetLinkUnusablePage(PAGES));
      return renderPage(reply, 200, resetPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply), token, email }));
    }

    @Post('reset')
    @Header('referrer-policy', 'no-referrer')
    async reset(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
      this.csrf.verify(request, form._csrf);
      const token = field(form, 'token');
      try {
        await this.resets.complete(token, field(form, 'password'));
        return seeOther(reply, loginPath);
      } catch (error) {
        const e = formError(error, reply, ['invalid_request']);
        const email = await this.resets.peek(token);
        if (email === null) return renderPage(reply, 400, resetLinkUnusablePage(PAGES));
        return renderPage(reply, e.status, resetPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply), token, email, error: formMessage(e) }));
      }
    }
  }

  return { ResetApiController, ResetPagesController };
}
