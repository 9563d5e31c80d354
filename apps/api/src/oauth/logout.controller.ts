import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApplicationsService } from '@app/developer';
import { ConnectionsService } from '@app/connections';
import { IdTokensService, redirectTo } from '@app/oauth';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { confirmLogoutPage, signedOutPage } from './logout.view';
import { errorPage } from '../shared/layout';
import { renderPage, seeOther } from '../shared/pages';

type Params = Record<string, string | string[] | undefined>;

/**
 * OpenID Connect RP-Initiated Logout 1.0 at `/oauth/logout` (GET or form POST).
 *
 * - With a valid `id_token_hint` (our signature, our issuer; an expired one is
 *   fine), the LoginSign session of the browser ends when it belongs to the
 *   user the hint names.
 * - The browser goes back to `post_logout_redirect_uri` (with `state`) only
 *   when it is exactly one of the application's `postLogoutRedirectUris` and
 *   the hint has not expired; otherwise the signed-out page shows, no redirect.
 * - An invalid hint is an error page; no hint asks the user to confirm (so a
 *   foreign page cannot sign users out).
 */
@Controller('oauth')
export class LogoutController {
  constructor(
    private readonly idTokens: IdTokensService,
    private readonly applications: ApplicationsService,
    private readonly connections: ConnectionsService,
    private readonly sessions: CookieSessionService,
    private readonly csrf: CsrfService,
  ) {}

  @Get('logout')
  get(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.logout(req, reply, (req.query ?? {}) as Params);
  }

  @Post('logout')
  post(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const body = req.body && typeof req.body === 'object' ? (req.body as Params) : {};
    return this.logout(req, reply, body);
  }

  private async logout(req: FastifyRequest, reply: FastifyReply, params: Params) {
    const repeated = Object.entries(params).find(([, v]) => Array.isArray(v));
    if (repeated) return renderPage(reply, 400, errorPage('This sign-out link is not valid', `The parameter ${repeated[0]} was sent more than once.`));
    const p = params as Record<string, string | undefined>;
    const session = await this.sessions.current(req, 'user');

    if (!p.id_token_hint) {
      if (!session) return renderPage(reply, 200, signedOutPage());
      return renderPage(reply, 200, confirmLogoutPage(this.csrf.issue(req, reply)));
    }

    const hint = await this.idTokens.verifyHint(p.id_token_hint);
    const client = hint ? await this.applications.findByClientId(hint.aud) : null;
    if (!hint || !client) return renderPage(reply, 400, errorPage('This sign-out link is not valid', 'The id_token_hint is not a valid LoginSign ID token.'));
    if (p.client_id !== undefined && p.client_id !== hint.aud) {
      return renderPage(reply, 400, errorPage('This sign-out link is not valid', 'client_id does not match the id_token_hint.'));
    }

    if (session) {
      const connection = await this.connections.find(client.id, session.subjectId);
      if (connection && connection.id === hint.sub) {
        await this.sessions.end(req, reply, 'user');
      }
    }

    const target = p.post_logout_redirect_uri;
    if (target !== undefined) {
      // Exact string match against the app's post-logout list: no open redirect.
      if (!client.postLogoutRedirectUris.includes(target)) {
        return renderPage(reply, 400, signedOutPage(`We did not send you back to ${client.name}: its return address is not registered.`));
      }
      // An old hint could be replayed by anyone who saw it: it ends the session but sends nobody anywhere.
      if (hint.exp * 1000 <= Date.now()) {
        return renderPage(reply, 400, signedOutPage(`We did not send you back to ${client.name}: the sign-out link has expired.`));
      }
      return seeOther(reply, redirectTo(target, { state: p.state }));
    }
    return renderPage(reply, 200, signedOutPage());
  }
}
