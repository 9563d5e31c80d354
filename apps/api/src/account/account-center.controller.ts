import { Controller, Get, Header, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode, Session, SessionService } from '@app/common';
import { AccountsService, LinkedEmailsService, MailerService } from '@app/identity';
import { AccountCenterService } from '@app/connections';
import { FormBody } from '../shared/body';
import { CookieSessionService } from '../shared/cookie-session.service';
import { CsrfService } from '../shared/csrf.service';
import { PageSession, sessionOf, signInLocation } from '../shared/page-session.guard';
import { doneNotice, field, Form, formError, formMessage, renderPage, seeOther } from '../shared/pages';
import { SignInRequired } from '../shared/sign-in-required';
import { sessionsSection } from './security-sessions.view';
import { AccountChrome, accountDeletedPage, appPage, appsPage, deletePage, emailsPage, profilePage, securityPage, verifyEmailPage } from './account-center.view';
import { TwoStepSectionRenderer } from './security-two-step.controller';
import { PasskeysSectionRenderer } from './security-passkeys.controller';

/** A hidden `true`/`false` field of a toggle button. */
function flag(form: Form, name: string): boolean {
  const value = field(form, name);
  if (value !== 'true' && value !== 'false') throw new AppError('invalid_request', `The form field ${name} must be true or false.`);
  return value === 'true';
}

/** Errors a form shows next to its fields (anything else is an error page). */
const FORM_ERRORS: ErrorCode[] = ['invalid_request', 'conflict', 'rate_limited', 'not_found', 'temporarily_unavailable'];

/** Fixed confirmations shown after a 303 (`?done=key`): never text taken from the request. */
const NOTICES: Record<string, string> = {
  profile: 'Your profile was saved.',
  password: 'Your password was changed. Your other sessions were signed out.',
  'session-ended': 'That session was signed out.',
  'others-ended': 'All your other sessions were signed out.',
  'email-sent': 'We sent a verification link. Open it to link the address.',
  'email-removed': 'The address was removed.',
  primary: 'Your primary address was changed.',
  verified: 'The address is now confirmed and linked to your account.',
  'confirm-sent': 'We sent a new confirmation link to your primary address.',
  'app-email': 'Saved: the app now sees the address you chose.',
  'email-request-shared': 'Allowed: the app now sees the address it asked for.',
  'email-request-declined': 'Declined: the app does not see that address.',
  'email-request-gone': 'Nothing was shared: that request is no longer open, or the address is no longer a confirmed address of your account.',
  'forwarding-on': 'Email forwarding is on.',
  'forwarding-off': 'Email forwarding is off.',
  muted: 'Emails from this app are muted.',
  unmuted: 'Emails from this app are no longer muted.',
  revoked: 'You stopped using LoginSign with this app. It was told, and its access ended.',
  'two-step-off': 'Two-step sign-in is off.',
  'passkey-added': 'The passkey was added.',
  'passkey-removed': 'The passkey was removed.',
  'passkey-password': 'The passkey was not removed: your current password was not correct.',
};

const notice = (done: unknown) => doneNotice(NOTICES, done);

/** Connection ids are opaque `c_...` strings; anything else cannot exist. */
function connectionPath(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new AppError('not_found', 'The app was not found.');
  return `/account/apps/${id}`;
}

interface Signed {
  session: Session;
  chrome: AccountChrome;
  account: { id: number; globalId: string; name: string; image: string | null; region: string; email: string };
}

/**
 * The account center (`/account`): profile, password, linked addresses and
 * their verification links, the apps the user signed in to, and account
 * deletion. Plain HTML forms (no JavaScript needed), `_csrf` on each, 303
 * after every successful POST.
 */
@Controller('account')
export class AccountCenterController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly linkedEmails: LinkedEmailsService,
    private readonly center: AccountCenterService,
    private readonly mailer: MailerService,
    private readonly cookieSessions: CookieSessionService,
    private readonly sessions: SessionService,
    private readonly csrf: CsrfService,
    private readonly twoStepSection: TwoStepSectionRenderer,
    private readonly passkeysSection: PasskeysSectionRenderer,
  ) {}

  /** The parts of /account/security after the password form, each rendered by its own feature. */
  /** The sections of /account/security below the password form: sessions, two-step sign-in, passkeys. */
  private async securitySections(s: Signed) {
    const args = [s.account.id, s.chrome.csrf, s.chrome.globalId] as const;
    const [sessions, twoStep, passkeys] = await Promise.all([
      this.sessions.list('user', s.account.id, s.session.id),
      this.twoStepSection.render(...args),
      this.passkeysSection.render(...args),
    ]);
    return [sessionsSection({ csrf: s.chrome.csrf, sessions }), twoStep, passkeys];
  }

  /** The signed-in user (the session PageSessionGuard found) and the page chrome. */
  private async signedIn(request: FastifyRequest, reply: FastifyReply, done?: unknown): Promise<Signed> {
    const session = sessionOf(request);
    const account = await this.accounts.getAccount(session.subjectId);
    if (!account) throw new SignInRequired(signInLocation('user', request));
    const chrome: AccountChrome = { csrf: this.csrf.issue(request, reply), name: account.name, globalId: account.globalId, notice: notice(done) };
    return { session, chrome, account };
  }

  /** For POSTs: the form's CSRF check, then the signed-in user. */
  private async signedInPost(request: FastifyRequest, reply: FastifyReply, form: Form): Promise<Signed> {
    this.csrf.verify(request, form._csrf);
    return this.signedIn(request, reply);
  }

  // Profile

  @PageSession('user')
  @Get()
  async profile(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, done);
    return renderPage(reply, 200, profilePage({ ...s.chrome, email: s.account.email, image: s.account.image, region: s.account.region }));
  }

  @PageSession('user')
  @Post('profile')
  async saveProfile(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    const input = { name: field(form, 'name'), image: field(form, 'image'), region: field(form, 'region') };
    try {
      await this.center.updateProfile(s.account.id, input);
      return seeOther(reply, '/account?done=profile');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(
        reply,
        e.status,
        profilePage({ ...s.chrome, email: s.account.email, image: s.account.image, region: s.account.region, form: input, error: formMessage(e) }),
      );
    }
  }

  // Password & security

  @PageSession('user')
  @Get('security')
  async security(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, done);
    return renderPage(reply, 200, securityPage(s.chrome, await this.securitySections(s)));
  }

  @PageSession('user')
  @Post('password')
  async changePassword(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      await this.accounts.changePassword(s.account.id, form.current_password, form.new_password, request.ip);
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(reply, e.status, securityPage({ ...s.chrome, error: formMessage(e) }, await this.securitySections(s)));
    }
    // Everyone else who had the old password is signed out; this browser stays, under a new session id.
    await this.cookieSessions.renewAfterPasswordChange(request, reply, 'user', s.account.id);
    return seeOther(reply, '/account/security?done=password');
  }

  @PageSession('user')
  @Get('delete')
  async deleteForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const s = await this.signedIn(request, reply);
    const apps = await this.center.listApps(s.account.id);
    return renderPage(reply, 200, deletePage({ ...s.chrome, apps: apps.map((a) => a.appName) }));
  }

  @PageSession('user')
  @Post('delete')
  async deleteAccount(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      await this.center.deleteAccount(s.account.id, form.password, request.ip);
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      const apps = await this.center.listApps(s.account.id);
      return renderPage(reply, e.status, deletePage({ ...s.chrome, apps: apps.map((a) => a.appName), error: formMessage(e) }));
    }
    await this.sessions.destroyAll('user', s.account.id);
    await this.cookieSessions.end(request, reply, 'user');
    return seeOther(reply, '/account/deleted');
  }

  @Get('deleted')
  deleted(@Res({ passthrough: true }) reply: FastifyReply) {
    return renderPage(reply, 200, accountDeletedPage());
  }

  // Email addresses

  private async emailsView(s: Signed, extra: { error?: string; addValue?: string } = {}) {
    const [{ linked, pending }, unconfirmedPrimary] = await Promise.all([this.linkedEmails.list(s.account.id), this.linkedEmails.primaryUnconfirmed(s.account.id)]);
    return emailsPage({ ...s.chrome, linked, pending, unconfirmedPrimary, devMailbox: this.mailer.usesDevMailbox, ...extra });
  }

  @PageSession('user')
  @Get('emails')
  async emails(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, done);
    return renderPage(reply, 200, await this.emailsView(s));
  }

  @PageSession('user')
  @Post('emails')
  async addEmail(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      // Adding an address asks for the password again; a new link for an address already waiting does not.
      if (!(await this.linkedEmails.isPending(s.account.id, field(form, 'email')))) await this.accounts.confirmPassword(s.account.id, form.password, request.ip);
      await this.linkedEmails.requestLink(s.account.id, field(form, 'email'));
      return seeOther(reply, '/account/emails?done=email-sent');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(reply, e.status, await this.emailsView(s, { error: formMessage(e), addValue: field(form, 'email') }));
    }
  }

  @PageSession('user')
  @Post('emails/remove')
  async removeEmail(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      await this.center.removeEmail(s.account.id, field(form, 'email'));
      return seeOther(reply, '/account/emails?done=email-removed');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(reply, e.status, await this.emailsView(s, { error: formMessage(e) }));
    }
  }

  @PageSession('user')
  @Post('emails/primary')
  async makePrimary(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      await this.linkedEmails.setPrimary(s.account.id, field(form, 'email'));
      return seeOther(reply, '/account/emails?done=primary');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(reply, e.status, await this.emailsView(s, { error: formMessage(e) }));
    }
  }

  /** Without a session: to the login page, then back to this very link (nothing is confirmed or spent meanwhile). */
  private verifyLoginLocation(token: string): string {
    return `/login?${new URLSearchParams({ return_to: `/account/emails/verify?${new URLSearchParams({ token })}` })}`;
  }

  /**
   * The emailed link: a confirmation page that names the account the address
   * is added to, for that account's session only (a stranger's link cannot
   * attach an address to the stranger's account).
   */
  @Get('emails/verify')
  @Header('referrer-policy', 'no-referrer')
  async verifyForm(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('token') token: unknown) {
    const raw = typeof token === 'string' && token.length <= 100 ? token : '';
    const session = await this.cookieSessions.current(request, 'user');
    if (!session) return seeOther(reply, this.verifyLoginLocation(raw));
    const [link, account] = await Promise.all([this.linkedEmails.peek(raw), this.accounts.getAccount(session.subjectId)]);
    if (!account) return seeOther(reply, this.verifyLoginLocation(raw));
    const who = { name: account.name, globalId: account.globalId };
    if (!link) return renderPage(reply, 400, verifyEmailPage({ csrf: '', token: '', email: null, account: who }));
    if (link.userId !== session.subjectId) return renderPage(reply, 403, verifyEmailPage({ csrf: '', token: '', email: null, account: who, otherAccount: true }));
    return renderPage(reply, 200, verifyEmailPage({ csrf: this.csrf.issue(request, reply), token: raw, email: link.email, account: who }));
  }

  @Post('emails/verify')
  async verify(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const token = field(form, 'token');
    const session = await this.cookieSessions.current(request, 'user');
    if (!session) return seeOther(reply, this.verifyLoginLocation(token.length <= 100 ? token : ''));
    this.csrf.verify(request, form._csrf);
    const account = await this.accounts.getAccount(session.subjectId);
    if (!account) return seeOther(reply, this.verifyLoginLocation(token.length <= 100 ? token : ''));
    const who = { name: account.name, globalId: account.globalId };
    try {
      await this.linkedEmails.verify(token, session.subjectId);
    } catch (error) {
      const e = formError(error, reply, [...FORM_ERRORS, 'forbidden']);
      return renderPage(reply, e.status, verifyEmailPage({ csrf: '', token: '', email: null, account: who, otherAccount: e.code === 'forbidden', error: e.description }));
    }
    return seeOther(reply, '/account/emails?done=verified');
  }

  /** "Send again": a new confirmation link for the primary address. */
  @PageSession('user')
  @Post('emails/confirm')
  async resendConfirmation(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form);
    try {
      await this.linkedEmails.sendPrimaryConfirmation(s.account.id);
      return seeOther(reply, '/account/emails?done=confirm-sent');
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      return renderPage(reply, e.status, await this.emailsView(s, { error: formMessage(e) }));
    }
  }

  // Apps using LoginSign

  @PageSession('user')
  @Get('apps')
  async apps(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, done);
    return renderPage(reply, 200, appsPage({ ...s.chrome, apps: await this.center.listApps(s.account.id) }));
  }

  private async appView(s: Signed, connectionId: string, error?: string) {
    const [app, { linked }] = await Promise.all([this.center.getApp(s.account.id, connectionId), this.linkedEmails.list(s.account.id)]);
    return appPage({ ...s.chrome, app, emails: linked.map((e) => e.email), error });
  }

  @PageSession('user')
  @Get('apps/:id')
  async app(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @Query('done') done: unknown) {
    connectionPath(id); // an id that cannot exist: 404
    const s = await this.signedIn(request, reply, done);
    return renderPage(reply, 200, await this.appView(s, id));
  }

  /** Runs one change of an app's settings; 303 back to its page, or the page with the error. */
  private async appChange(request: FastifyRequest, reply: FastifyReply, id: string, form: Form, change: (userId: number) => Promise<string>) {
    const path = connectionPath(id);
    const s = await this.signedInPost(request, reply, form);
    try {
      const done = await change(s.account.id);
      return seeOther(reply, `${path}?done=${done}`);
    } catch (error) {
      const e = formError(error, reply, FORM_ERRORS);
      if (e.code === 'not_found') throw e;
      return renderPage(reply, e.status, await this.appView(s, id, formMessage(e)));
    }
  }

  @PageSession('user')
  @Post('apps/:id/email')
  async appEmail(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    return this.appChange(request, reply, id, form, async (userId) => {
      const share = field(form, 'share');
      if (!share) throw new AppError('invalid_request', 'Choose which email the app should see.');
      await this.center.shareEmail(userId, id, share);
      return 'app-email';
    });
  }

  /** The app's request to see an address: `allow` shares it (if it is still the user's), `decline` drops it. From the apps list or the app's page. */
  @PageSession('user')
  @Post('apps/:id/email-request')
  async emailRequest(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    return this.appChange(request, reply, id, form, async (userId) => {
      const answer = field(form, 'answer');
      if (answer !== 'allow' && answer !== 'decline') throw new AppError('invalid_request', 'The form field answer must be allow or decline.');
      return `email-request-${await this.center.answerEmailRequest(userId, id, answer === 'allow')}`;
    });
  }

  @PageSession('user')
  @Post('apps/:id/forwarding')
  async forwarding(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    return this.appChange(request, reply, id, form, async (userId) => {
      const on = flag(form, 'isForwarding');
      await this.center.setForwarding(userId, id, on);
      return on ? 'forwarding-on' : 'forwarding-off';
    });
  }

  @PageSession('user')
  @Post('apps/:id/mute')
  async mute(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    return this.appChange(request, reply, id, form, async (userId) => {
      const muted = flag(form, 'emailMuted');
      await this.center.setMuted(userId, id, muted);
      return muted ? 'muted' : 'unmuted';
    });
  }

  @PageSession('user')
  @Post('apps/:id/revoke')
  async revoke(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    return this.appChange(request, reply, id, form, async (userId) => {
      await this.center.revokeApp(userId, id);
      return 'revoked';
    });
  }
}
