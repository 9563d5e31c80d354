import { Controller, Get, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Session } from '@app/common';
import { AccountsService, LoginDto, SignUpDto } from '@app/identity';
import { JsonBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { isJsonRequest } from '../shared/csrf-rules';
import { CurrentSession, UserSessionGuard } from '../shared/session.guard';
import { SameSiteGuard } from './same-site.guard';
import { ApiEndpoint } from '../shared/openapi';
import { AccountProfile, AccountSummary } from './account.schemas';

/** JSON equivalents of the sign-up and login pages, for scripts and native clients. */
@Controller('api/account')
export class AccountApiController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: CookieSessionService,
  ) {}

  @ApiEndpoint({ summary: 'Sign up (starts a session)', body: SignUpDto, response: AccountSummary, errors: ['forbidden', 'conflict', 'rate_limited'] })
  @Post('signup')
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  @UseGuards(SameSiteGuard)
  async signUp(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @JsonBody() body: SignUpDto) {
    const account = await this.accounts.signUp(body, request.ip);
    await this.sessions.start(request, reply, 'user', account.id);
    return { globalId: account.globalId, name: account.name, email: account.email };
  }

  @ApiEndpoint({
    summary: 'Sign in (starts a session); with two-step sign-in on, otp is needed',
    body: LoginDto,
    response: AccountSummary,
    errors: ['forbidden', 'invalid_credentials', 'mfa_required', 'rate_limited'],
  })
  @Post('login')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @UseGuards(SameSiteGuard)
  async login(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @JsonBody() body: LoginDto) {
    const account = await this.accounts.verifyLogin(body.email, body.password, request.ip, { otp: body.otp });
    await this.sessions.start(request, reply, 'user', account.id, account.amr);
    return { globalId: account.globalId, name: account.name, email: account.email };
  }

  /** Always 204, signed in or not: logging out twice is not an error. */
  @ApiEndpoint({ summary: 'Sign out (idempotent)', response: null, errors: ['forbidden'] })
  @Post('logout')
  @HttpCode(204)
  @UseGuards(SameSiteGuard)
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const length = Number(request.headers['content-length'] ?? 0);
    if ((length > 0 || request.headers['transfer-encoding'] !== undefined) && !isJsonRequest(request)) {
      throw new AppError('forbidden', 'Cookie-authenticated writes must send application/json.');
    }
    await this.sessions.end(request, reply, 'user');
  }

  @ApiEndpoint({ summary: 'The signed-in user', auth: 'user', response: AccountProfile })
  @Get('me')
  @Header('cache-control', 'no-store')
  @UseGuards(UserSessionGuard)
  async me(@CurrentSession() session: Session) {
    const account = await this.accounts.getAccount(session.subjectId);
    if (!account) throw new AppError('unauthorized', 'Sign in first: no valid session.');
    return { globalId: account.globalId, name: account.name, email: account.email, image: account.image, region: account.region };
  }
}
