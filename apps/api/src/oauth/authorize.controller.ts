import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, Session } from '@app/common';
import { ConnectionsService, EmailShare } from '@app/connections';
import { AccountsService } from '@app/identity';
import {
  AUTHORIZE_PARAMS,
  AuthorizationRequest,
  AuthorizePageError,
  AuthorizeRedirectError,
  AuthorizeRequestValidator,
  CodesService,
  isSubset,
  RawParams,
  redirectTo,
} from '@app/oauth';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { errorPage } from '../shared/layout';
import { renderPage, seeOther } from '../shared/pages';
import { consentPage } from './consent.view';

/**
 * The authorization endpoint (RFC 6749 4.1 + RFC 7636): login redirect,
 * consent page, remembered consent, and the decision form.
 */
@Controller('oauth')
export class AuthorizeController {
  constructor(
    private readonly validator: AuthorizeRequestValidator,
    private readonly codes: CodesService,
    private readonly connections: ConnectionsService,
    private readonly accounts: AccountsService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    const params = req.query as RawParams;
    const validated = await this.validate(params, reply);
    if (!('request' in validated)) return validated.answer;
    const request = validated.request;
    const session = await this.sessions.current(req, 'user');
    if (!session) return seeOther(reply, `/login?return_to=${encodeURIComponent(req.url)}`);

    const connection = await this.connections.find(request.client.id, session.subjectId);
    if (connection?.blocked) return this.redirectError(reply, request, 'access_denied', 'The application has blocked this account.');
    // Remembered consent: the same or fewer scopes than the user already granted.
    if (connection && connection.active && isSubset(request.scopes, connection.scopes)) {
      return this.redirectWithCode(reply, request, connection.id, session);
    }
    return this.renderConsent(req, reply, request, session, params);
  }

  @Post('authorize/decision')
  async decide(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() body: Record<string, string | string[] | undefined>) {
    reply.header('cache-control', 'no-store');
    this.csrf.verify(req, body._csrf);
    const params: RawParams = {};
    for (const name of AUTHORIZE_PARAMS) if (body[name] !== undefined) params[name] = body[name];
    const validated = await this.validate(params, reply);
    if (!('request' in validated)) return validated.answer;
    const request = validated.request;
    const session = await this.sessions.current(req, 'user');
    if (!session) {
      const query = new URLSearchParams(params as Record<string, string>).toString();
      return seeOther(reply, `/login?return_to=${encodeURIComponent(`/oauth/authorize?${query}`)}`);
    }
    if (body.decision === 'deny') return this.redirectError(reply, request, 'access_denied', 'The user declined to sign in.');
    if (body.decision !== 'allow') return this.redirectError(reply, request, 'invalid_request', 'The consent decision is missing.');

    const existing = await this.connections.find(request.client.id, session.subjectId);
    if (existing?.blocked) return this.redirectError(reply, request, 'access_denied', 'The application has blocked this account.');
    const share = await this.parseShare(session.subjectId, body.share);
    if (!share) {
      return this.renderConsent(req, reply, request, session, params, 'Choose one of the offered email options.');
    }
    const connection = await this.connections.grantConsent(request.client.id, session.subjectId, request.scopes, share);
    return this.redirectWithCode(reply, request, connection.id, session);
  }

  /** Validates; a failure becomes the answer (an error page or an error redirect). */
  private async validate(params: RawParams, reply: FastifyReply): Promise<{ request: AuthorizationRequest } | { answer: string | void }> {
    try {
      return { request: await this.validator.validate(params) };
    } catch (error) {
      if (error instanceof AuthorizePageError) {
        return { answer: renderPage(reply, 400, errorPage('This sign-in link is not valid', error.message)) };
      }
      if (error instanceof AuthorizeRedirectError) {
        return { answer: seeOther(reply, this.backToClient(error.redirectUri, { error: error.error, error_description: error.description, state: error.state })) };
      }
      throw error;
    }
  }

  /** Every redirect back to the client (code or error) names the issuer (RFC 9207). */
  private backToClient(redirectUri: string, params: Record<string, string | undefined>): string {
    return redirectTo(redirectUri, { ...params, iss: this.config.publicUrl });
  }

  private redirectError(reply: FastifyReply, request: AuthorizationRequest, error: string, description: string) {
    return seeOther(reply, this.backToClient(request.redirectUri, { error, error_description: description, state: request.state }));
  }

  private async redirectWithCode(reply: FastifyReply, request: AuthorizationRequest, connectionId: string, session: Session) {
    const code = await this.codes.issue({
      applicationId: request.client.id,
      connectionId,
      redirectUri: request.redirectUri,
      scope: request.scopes.join(' '),
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      authTime: session.authTime,
      amr: session.amr,
    });
    return seeOther(reply, this.backToClient(request.redirectUri, { code, state: request.state }));
  }

  /** `share` is `relay`, `none`, or one of the user's verified linked addresses. */
  private async parseShare(userId: number, share: unknown): Promise<EmailShare | null> {
    if (share === undefined || share === 'relay') return { kind: 'relay' };
    if (share === 'none') return { kind: 'none' };
    if (typeof share !== 'string') return null;
    const linked = await this.accounts.linkedEmails(userId);
    const match = linked.find((e) => e.confirmed && e.email === share.trim().toLowerCase());
    return match ? { kind: 'address', email: match.email } : null;
  }

  private async renderConsent(req: FastifyRequest, reply: FastifyReply, request: AuthorizationRequest, session: Session, params: RawParams, error?: string) {
    const [user, linked] = await Promise.all([this.accounts.getUser(session.subjectId), this.accounts.linkedEmails(session.subjectId)]);
    if (!user) throw new AppError('unauthorized', 'Your account no longer exists.');
    const carried: Record<string, string> = {};
    for (const name of AUTHORIZE_PARAMS) if (typeof params[name] === 'string') carried[name] = params[name];
    const html = consentPage({
      appName: request.client.name,
      logoUrl: request.client.logoUrl,
      userName: user.name,
      scopes: request.scopes,
      emails: linked.filter((e) => e.confirmed).map((e) => e.email),
      relayDomain: this.config.relayDomain,
      params: carried,
      csrf: this.csrf.issue(req, reply),
      error,
    });
    return renderPage(reply, error ? 400 : 200, html);
  }
}
