import { Controller, Header, HttpCode, Injectable, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { IsNotEmpty, IsObject, IsString, MaxLength } from 'class-validator';
import { AppError, Session } from '@app/common';
import { AccountsService, PASSKEY_NAME_MAX, PasskeysService } from '@app/identity';
import { FormBody, JsonBody } from '../shared/body';
import { CsrfService } from '../shared/csrf.service';
import { SafeHtml } from '../shared/html';
import { PageSession, sessionOf } from '../shared/page-session.guard';
import { Form, seeOther } from '../shared/pages';
import { CurrentSession, UserSessionGuard } from '../shared/session.guard';
import { ApiEndpoint } from '../shared/openapi';
import { passkeysSection } from './security-passkeys.view';

export class PasskeyOptionsDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  password: string;
}

export class AddPasskeyDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSKEY_NAME_MAX * 4)
  name: string;

  @IsObject()
  response: Record<string, unknown>;
}

/** The passkeys section of /account/security, for the page that composes the sections. */
@Injectable()
export class PasskeysSectionRenderer {
  constructor(private readonly passkeys: PasskeysService) {}

  async render(userId: number, csrf: string, globalId: string): Promise<SafeHtml> {
    return passkeysSection({ csrf, globalId, passkeys: await this.passkeys.list(userId) });
  }
}

/**
 * Adding a passkey (`/api/account/passkeys*`, JSON, called by
 * /assets/passkeys.js): the password first, then the browser's credential
 * against the challenge that the password unlocked.
 */
@Controller('api/account/passkeys')
export class PasskeysApiController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly passkeys: PasskeysService,
  ) {}

  @ApiEndpoint({
    summary: 'WebAuthn registration options for a new passkey (the password again first)',
    auth: 'user',
    body: PasskeyOptionsDto,
    response: {
      type: 'object',
      additionalProperties: true,
      description: 'PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3), for @simplewebauthn/browser startRegistration().',
    },
    errors: ['rate_limited'],
  })
  @Post('options')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @UseGuards(UserSessionGuard)
  async options(@Req() request: FastifyRequest, @CurrentSession() session: Session, @JsonBody() body: PasskeyOptionsDto) {
    await this.accounts.confirmPassword(session.subjectId, body.password, request.ip);
    return this.passkeys.registrationOptions(session.subjectId);
  }

  @ApiEndpoint({
    summary: 'Register a passkey with the authenticator response to the options',
    auth: 'user',
    body: AddPasskeyDto,
    response: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, required: ['id', 'name'], additionalProperties: false },
  })
  @Post()
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  @UseGuards(UserSessionGuard)
  async add(@CurrentSession() session: Session, @JsonBody() body: AddPasskeyDto) {
    const passkey = await this.passkeys.register(session.subjectId, body.response, body.name);
    return { id: passkey.id, name: passkey.name };
  }
}

/** Removing a passkey from /account/security: a form with the password again. */
@Controller('account/security/passkeys')
export class SecurityPasskeysController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly passkeys: PasskeysService,
    private readonly csrf: CsrfService,
  ) {}

  @PageSession('user')
  @Post(':id/remove')
  async remove(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    const session = sessionOf(request);
    if (!/^\d{1,18}$/.test(id)) throw new AppError('not_found', 'The passkey was not found.');
    try {
      await this.accounts.confirmPassword(session.subjectId, form.password, request.ip);
    } catch (error) {
      if (error instanceof AppError && (error.code === 'invalid_request' || error.code === 'rate_limited')) return seeOther(reply, '/account/security?done=passkey-password');
      throw error;
    }
    await this.passkeys.remove(session.subjectId, Number(id));
    return seeOther(reply, '/account/security?done=passkey-removed');
  }
}
