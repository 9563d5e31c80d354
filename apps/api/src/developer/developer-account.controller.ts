import { Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isoUtc, Session } from '@app/common';
import { DeveloperLoginDto, DeveloperRecord, DeveloperSignupDto, DevelopersService } from '@app/developer';
import { JsonBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session.guard';
import { PortalWriteGuard } from './portal-write.guard';
import { ApiEndpoint } from '../shared/openapi';
import { DeveloperProfile, DeveloperSummary } from './developer.schemas';

const summary = (d: DeveloperRecord) => ({ id: d.id, name: d.name, email: d.email });

/** Developer Portal accounts: sign-up, sign-in, sign-out, who am I. */
@Controller('api/developer')
export class DeveloperAccountController {
  constructor(
    private readonly developers: DevelopersService,
    private readonly sessions: CookieSessionService,
  ) {}

  @ApiEndpoint({ summary: 'Sign up as a developer (starts a session)', body: DeveloperSignupDto, response: DeveloperSummary, errors: ['forbidden', 'conflict', 'rate_limited'] })
  @Post('signup')
  @UseGuards(PortalWriteGuard)
  async signup(@JsonBody() body: DeveloperSignupDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const developer = await this.developers.signup(body, request.ip);
    await this.sessions.start(request, reply, 'developer', developer.id);
    return summary(developer);
  }

  @ApiEndpoint({
    summary: 'Sign in as a developer (starts a session); with two-step sign-in on, otp is needed',
    body: DeveloperLoginDto,
    response: DeveloperSummary,
    errors: ['forbidden', 'invalid_credentials', 'mfa_required', 'rate_limited'],
  })
  @Post('login')
  @HttpCode(200)
  @UseGuards(PortalWriteGuard)
  async login(@JsonBody() body: DeveloperLoginDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const developer = await this.developers.login(body.email, body.password, request.ip, { otp: body.otp });
    await this.sessions.start(request, reply, 'developer', developer.id, developer.amr);
    return summary(developer);
  }

  /** Idempotent: 204 with or without a live session; the session dies server-side. */
  @ApiEndpoint({ summary: 'Sign out (idempotent)', response: null, errors: ['forbidden'] })
  @Post('logout')
  @HttpCode(204)
  @UseGuards(PortalWriteGuard)
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.sessions.end(request, reply, 'developer');
  }

  @ApiEndpoint({ summary: 'The signed-in developer', auth: 'developer', response: DeveloperProfile })
  @Get('me')
  @UseGuards(DeveloperSessionGuard)
  async me(@CurrentSession() session: Session) {
    const developer = await this.developers.findById(session.subjectId);
    if (!developer) throw new AppError('unauthorized', 'Sign in first: no valid session.');
    return { ...summary(developer), createdAt: isoUtc(developer.createdAt) };
  }
}
