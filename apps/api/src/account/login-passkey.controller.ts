import { Controller, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { PasskeysService } from '@app/identity';
import { JsonBody } from '../shared/body';
import { ApiEndpoint } from '../shared/openapi';
import { CookieSessionService } from '../shared/cookie-session.service';
import { safeReturnTo } from '../shared/return-to';
import { LoginSecondStep } from '../shared/login-second-step.service';
import { SameSiteGuard } from './same-site.guard';

/** Body of `POST /api/account/passkey-login`: the browser's WebAuthn assertion (JSON form) and where to go next. */
export class PasskeySignInDto {
  @IsObject()
  response: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  return_to?: string;
}

/**
 * "Sign in with a passkey" on /login (called by /assets/passkeys.js):
 * options with a single-use challenge, then the assertion. A passkey that
 * verified the user needs no second step; the answer names the page to open.
 */
@Controller('api/account/passkey-login')
export class LoginPasskeyController {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly sessions: CookieSessionService,
    private readonly secondStep: LoginSecondStep,
  ) {}

  @ApiEndpoint({
    summary: 'WebAuthn authentication options with a single-use challenge ("Sign in with a passkey")',
    response: {
      type: 'object',
      additionalProperties: true,
      description: 'PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3), for @simplewebauthn/browser startAuthentication().',
    },
    errors: ['forbidden'],
  })
  @Post('options')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @UseGuards(SameSiteGuard)
  options() {
    return this.passkeys.authenticationOptions();
  }

  @ApiEndpoint({
    summary: 'Sign in with a passkey (starts a session, or the second step when one is needed)',
    body: PasskeySignInDto,
    response: { type: 'object', properties: { location: { type: 'string', description: 'The page to open next.' } }, required: ['location'], additionalProperties: false },
    errors: ['forbidden', 'invalid_credentials'],
  })
  @Post()
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @UseGuards(SameSiteGuard)
  async signIn(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @JsonBody() body: PasskeySignInDto) {
    const returnTo = safeReturnTo(body.return_to);
    const result = await this.passkeys.signIn(body.response);
    if (result.secondStepNeeded) {
      await this.secondStep.start(reply, { kind: 'user', userId: result.userId, returnTo, amr: result.amr });
      return { location: '/login/two-step' };
    }
    await this.sessions.start(request, reply, 'user', result.userId, result.amr);
    return { location: returnTo };
  }
}
