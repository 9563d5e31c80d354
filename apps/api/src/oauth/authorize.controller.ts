import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, Session } from '@app/common';
import { ConnectionsService, EmailShare } from '@app/connections';
import { ApplicationsService } from '@app/developer';
import { AccountsService } from '@app/identity';
import {
  AUTHORIZE_PARAMS,
  AuthorizationRequest,
  AuthorizePageError,
  AuthorizeRedirectError,
  AuthorizeRequestValidator,
  CodesService,
  FreshSignInService,
  isSubset,
  PushedRequest,
  PushedRequestsService,
  RawParams,
  redirectTo,
  RequestSource,
} from '@app/oauth';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { errorPage } from '../shared/layout';
import { renderPage, seeOther } from '../shared/pages';
import { consentPage } from './consent.view';

/** The query parameter of the one-time marker that a fresh sign-in (prompt=login, max_age) happened. */
const FRESH_SIGN_IN_PARAM = 'signed_in';

/** What the request needs next, before anything is shown or sent back. */
type Step = { kind: 'sign-in'; fresh: boolean } | { kind: 'error'; error: string; description: string } | { kind: 'consent' } | { kind: 'code'; connectionId: string };

/**
 * The authorization endpoint (RFC 6749 4.1 + RFC 7636 + OIDC Core 3.1.2):
 * login redirect, prompt / max_age / hints, consent page, remembered
 * consent, pushed requests (RFC 9126), and the decision form.
 */
@Controller('oauth')
export class AuthorizeController {
  constructor(
    private readonly validator: AuthorizeRequestValidator,
    private readonly codes: CodesService,
    private readonly connections: ConnectionsService,
    private readonly accounts: AccountsService,
    private readonly applications: ApplicationsService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
    private readonly pushedRequests: PushedRequestsService,
    private readonly freshSignIns: FreshSignInService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    reply.header('cache-control', 'no-store');
    const query = req.query as RawParams;
    let pushed: PushedRequest | null = null;
    if (query.request_uri !== undefined) {
      const found = await this.findPushed(query, reply);
      if (!('request' in found)) return found.answer;
      pushed = found.request;
    }
    const params: RawParams = pushed ? pushed.params : query;
    const validated = await this.validate(params, reply, pushed ? 'pushed' : 'query');
    if (!('request' in validated)) {
      if (pushed) await this.pushedRequests.spend(pushed);
      return validated.answer;
    }
    const request = validated.request;
    const session = await this.sessions.current(req, 'user');
    const step = await this.nextStep(request, session, query[FRESH_SIGN_IN_PARAM]);

    // A pushed request survives the way through sign-in and is spent by whatever comes after.
    if (step.kind === 'sign-in') return this.toSignIn(reply, req.url, request, step.fresh);
    const spent = await this.spend(pushed, reply);
    if (spent !== null) return spent;
    if (step.kind === 'error') return this.redirectError(reply, request, step.error, step.description);
    if (step.kind === 'code') return this.redirectWithCode(reply, request, step.connectionId, session!);
    return this.renderConsent(req, reply, request, session!, params);
  }

  /**
   * OIDC Core 3.1.2.1: prompt=none never shows a page (the needed step is
   * the error); prompt=login and an exceeded max_age ask for a fresh
   * sign-in, satisfied by the one-time marker of a sign-in made since;
   * prompt=consent shows the consent page even when consent is remembered.
   */
  private async nextStep(request: AuthorizationRequest, session: Session | null, marker: unknown): Promise<Step> {
    const silent = request.prompts.includes('none');
    // Without a session the coming sign-in is fresh by itself; the marker still counts it as such when it returns.
    if (!session) return silent ? loginRequired('The user is not signed in.') : { kind: 'sign-in', fresh: request.prompts.includes('login') || request.maxAge !== undefined };
    const now = Math.floor(Date.now() / 1000);
    const tooOld = request.maxAge !== undefined && now - session.authTime > request.maxAge;
    if (silent && tooOld) return loginRequired('The sign-in is older than max_age.');
    if (request.prompts.includes('login') || tooOld) {
      const fresh = typeof marker === 'string' && (await this.freshSignIns.satisfiedBy(marker, request.client.id, session.authTime));
      if (!fresh) return { kind: 'sign-in', fresh: true };
    }

    const connection = await this.connections.consentState(request.client.id, session.subjectId);
    if (silent && request.hintedSubject !== undefined && request.hintedSubject !== connection?.id) {
      return loginRequired('The signed-in user is not the one id_token_hint names.');
    }
    if (connection?.blocked) return { kind: 'error', error: 'access_denied', description: 'The application has blocked this account.' };
    // Remembered consent: the same or fewer scopes than the user already granted.
    const remembered = !!connection && connection.active && isSubset(request.scopes, connection.scopes);
    if (remembered && !request.prompts.includes('consent')) return { kind: 'code', connectionId: connection.id };
    if (silent) return { kind: 'error', error: 'consent_required', description: 'The user has not consented to this request.' };
    return { kind: 'consent' };
  }

  /** To the login page and back here; a fresh sign-in carries a new one-time marker for this request. */
  private async toSignIn(reply: FastifyReply, url: string, request: AuthorizationRequest, fresh: boolean) {
    const back = new URL(url, 'http://same-origin.invalid');
    back.searchParams.delete(FRESH_SIGN_IN_PARAM);
    if (fresh) back.searchParams.set(FRESH_SIGN_IN_PARAM, await this.freshSignIns.mark(request.client.id));
    const login = new URLSearchParams({ return_to: `${back.pathname}${back.search}` });
    if (request.loginHint) login.set('login_hint', request.loginHint);
    return seeOther(reply, `/login?${login.toString()}`);
  }

  /** The pushed parameters of `request_uri` for this client_id (RFC 9126 4); a failure is our error page. */
  private async findPushed(query: RawParams, reply: FastifyReply): Promise<{ request: PushedRequest } | { answer: string | void }> {
    const { client_id: clientId, request_uri: requestUri } = query;
    const invalid = (message: string) => ({ answer: renderPage(reply, 400, errorPage('This sign-in link is not valid', message)) });
    if (typeof clientId !== 'string' || typeof requestUri !== 'string') return invalid('client_id and request_uri must be sent once each.');
    const client = clientId.length <= 64 ? await this.applications.findByClientId(clientId) : null;
    if (!client) return invalid('This application is not registered with LoginSign.');
    const request = await this.pushedRequests.find(client.id, requestUri);
    if (!request) return invalid('invalid_request_uri: the request_uri is unknown, used, expired or belongs to another application.');
    return { request };
  }

  /** Uses a pushed request up; null when spent now, the error page when another use came first. */
  private async spend(pushed: PushedRequest | null, reply: FastifyReply): Promise<string | void | null> {
    if (!pushed || (await this.pushedRequests.spend(pushed))) return null;
    return renderPage(reply, 400, errorPage('This sign-in link is not valid', 'invalid_request_uri: the request_uri has already been used.'));
  }

  @Post('authorize/decision')
  async decide(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() body: Record<string, string | string[] | undefined>) {
    reply.header('cache-control', 'no-store');
    this.csrf.verify(req, body._csrf);
    const params: RawParams = {};
    for (const name of AUTHORIZE_PARAMS) if (body[name] !== undefined) params[name] = body[name];
    const validated = await this.validate(params, reply, 'consent-form');
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
  private async validate(params: RawParams, reply: FastifyReply, source: RequestSource): Promise<{ request: AuthorizationRequest } | { answer: string | void }> {
    try {
      return { request: await this.validator.validate(params, source) };
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
    // The decision covers exactly the scopes shown (unknown values already dropped).
    carried.scope = request.scopes.join(' ');
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

const loginRequired = (description: string): Step => ({ kind: 'error', error: 'login_required', description });
