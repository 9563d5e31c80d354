import { Controller, Get, Header, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { DeveloperPasswordResetService } from './developer-password-reset.service';
import { ForgotPasswordDto, ResetPasswordDto } from '@app/identity';
import { FormBody, JsonBody } from '../shared/body';
import { ApiEndpoint } from '../shared/openapi';
import { CsrfService } from '../shared/csrf.service';
import { field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { forgotPasswordPage, resetLinkUnusablePage, resetPasswordPage, ResetPages } from '../shared/password-reset.view';
import { PortalWriteGuard } from './portal-write.guard';

const PAGES: ResetPages = { base: '/developer', product: 'Developer Portal' };

/** Forgotten password of developer accounts, JSON: the same answer for every address. */
@Controller('api/developer/password')
export class DeveloperPasswordResetApiController {
  constructor(private readonly resets: DeveloperPasswordResetService) {}

  @ApiEndpoint({
    summary: 'Mail a password reset link (the same 202 for every address)',
    body: ForgotPasswordDto,
    response: { type: 'object', additionalProperties: false },
    errors: ['forbidden', 'rate_limited'],
  })
  @Post('forgot')
  @HttpCode(202)
  @Header('cache-control', 'no-store')
  @UseGuards(PortalWriteGuard)
  async forgot(@Req() request: FastifyRequest, @JsonBody() body: ForgotPasswordDto) {
    await this.resets.request(body.email, request.ip);
    return {};
  }

  @ApiEndpoint({ summary: 'Set a new password with a mailed reset link (ends every session)', body: ResetPasswordDto, response: null, errors: ['forbidden'] })
  @Post('reset')
  @HttpCode(204)
  @Header('cache-control', 'no-store')
  @UseGuards(PortalWriteGuard)
  async reset(@JsonBody() body: ResetPasswordDto) {
    await this.resets.complete(body.token, body.password);
  }
}

/** Forgotten password of developer accounts, pages: `/developer/password/forgot` and the mailed `/developer/password/reset?token=..`. */
@Controller('developer/password')
export class DeveloperPasswordResetPagesController {
  constructor(
    private readonly resets: DeveloperPasswordResetService,
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
      return seeOther(reply, '/developer/login');
    } catch (error) {
      const e = formError(error, reply, ['invalid_request']);
      const email = await this.resets.peek(token);
      if (email === null) return renderPage(reply, 400, resetLinkUnusablePage(PAGES));
      return renderPage(reply, e.status, resetPasswordPage(PAGES, { csrf: this.csrf.issue(request, reply), token, email, error: formMessage(e) }));
    }
  }
}
