import { Controller, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, isoUtc, Session, SessionService } from '@app/common';
import { DeveloperLoginDto, DeveloperRecord, DeveloperSignupDto, DevelopersService } from '@app/developer';
import { JsonBody } from '../shared/body';
import { clearSessionCookie, readCookie, setSessionCookie } from '../shared/cookies';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session-auth';
import { PortalWriteGuard } from './portal-write.guard';

const summary = (d: DeveloperRecord) => ({ id: d.id, name: d.name, email: d.email });

/** Developer Portal accounts: sign-up, sign-in, sign-out, who am I. */
@Controller('api/developer')
export class DeveloperAccountController {
  constructor(
    private readonly developers: DevelopersService,
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('signup')
  @UseGuards(PortalWriteGuard)
  async signup(@JsonBody() body: DeveloperSignupDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const developer = await this.developers.signup(body);
    await this.startSession(request, reply, developer.id);
    return summary(developer);
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(PortalWriteGuard)
  async login(@JsonBody() body: DeveloperLoginDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const developer = await this.developers.login(body.email, body.password, request.ip);
    await this.startSession(request, reply, developer.id);
    return summary(developer);
  }

  /** Idempotent: 204 with or without a live session; the session dies server-side. */
  @Post('logout')
  @HttpCode(204)
  @UseGuards(PortalWriteGuard)
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    await this.endCurrentSession(request);
    clearSessionCookie(reply, this.config, 'developer');
  }

  @Get('me')
  @UseGuards(DeveloperSessionGuard)
  async me(@CurrentSession() session: Session) {
    const developer = await this.developers.findById(session.subjectId);
    if (!developer) throw new AppError('unauthorized', 'Sign in first: no valid session.');
    return { ...summary(developer), createdAt: isoUtc(developer.createdAt) };
  }

  /** Always a fresh session id (no fixation); a session the browser already had is ended. */
  private async startSession(request: FastifyRequest, reply: FastifyReply, developerId: number) {
    await this.endCurrentSession(request);
    const session = await this.sessions.create('developer', developerId);
    setSessionCookie(reply, this.config, 'developer', session.id);
  }

  private async endCurrentSession(request: FastifyRequest) {
    const current = await this.sessions.get(readCookie(request, this.config, 'developer'), 'developer');
    if (current) await this.sessions.destroy(current);
  }
}
