import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Session, SessionService } from '@app/common';
import { AccountsService, LinkedEmailsService, MailerService } from '@app/identity';
import { AccountCenterService } from '@app/oauth';
import { FormBody } from '../common/body';
import { CsrfService } from '../common/csrf';
import {
  AccountChrome,
  accountDeletedPage,
  appPage,
  appsPage,
  deletePage,
  emailsPage,
  emailVerifiedPage,
  profilePage,
  securityPage,
  verifyEmailPage,
} from '../../views/account-center';
import { UserSessions } from './user-sessions';

type Form = Record<string, unknown>;

function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

/** A hidden `true`/`false` field of a toggle button. */
function flag(form: Form, name: string): boolean {
  const value = field(form, name);
  if (value !== 'true' && value !== 'false') throw new AppError('invalid_request', `The form field ${name} must be true or false.`);
  return value === 'true';
}

/** The service's "Invalid field: name must be..." reads better on a form as "Name must be...". */
function formMessage(error: AppError): string {
  const text = error.description.replace(/^Invalid field: /, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Errors a form shows next to its fields (anything else is an error page). */
const FORM_ERRORS = new Set(['invalid_request', 'conflict', 'rate_limited', 'not_found', 'temporarily_unavailable']);

function formError(error: unknown, reply: FastifyReply): AppError {
  if (!(error instanceof AppError) || !FORM_ERRORS.has(error.code)) throw error;
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return error;
}

function sendPage(reply: FastifyReply, status: number, body: string) {
  reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

function seeOther(reply: FastifyReply, location: string) {
  reply.status(303).header('cache-control', 'no-store').header('location', location).send();
}

/** Fixed confirmations shown after a 303 (`?done=key`): never text taken from the request. */
const NOTICES: Record<string, string> = {
  profile: 'Your profile was saved.',
  password: 'Your password was changed. Your other sessions were signed out.',
  'email-sent': 'We sent a verification link. Open it to link the address.',
  'email-removed': 'The address was removed.',
  primary: 'Your primary address was changed.',
  verified: 'The address is now linked to your account.',
  'app-email': 'Saved: the app now sees the address you chose.',
  'forwarding-on': 'Email forwarding is on.',
  'forwarding-off': 'Email forwarding is off.',
  muted: 'Emails from this app are muted.',
  unmuted: 'Emails from this app are no longer muted.',
  revoked: 'You stopped using LoginSign with this app. It was told, and its access ended.',
};

function notice(done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
}

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
    private readonly userSessions: UserSessions,
    private readonly sessions: SessionService,
    private readonly csrf: CsrfService,
  ) {}

  /** The signed-in user, or null after answering with a 303 to the login page. */
  private async signedIn(request: FastifyRequest, reply: FastifyReply, returnTo: string, done?: unknown): Promise<Signed | null> {
    const session = await this.userSessions.current(request);
    const account = session ? await this.accounts.getAccount(session.subjectId) : null;
    if (!session || !account) {
      seeOther(reply, `/login?return_to=${returnTo}`);
      return null;
    }
    const chrome: AccountChrome = { csrf: this.csrf.issue(request, reply), name: account.name, globalId: account.globalId, notice: notice(done) };
    return { session, chrome, account };
  }

  /** For POSTs: CSRF first, then the session (none: back to the login page). */
  private async signedInPost(request: FastifyRequest, reply: FastifyReply, form: Form, returnTo: string): Promise<Signed | null> {
    this.csrf.verify(request, form._csrf);
    return this.signedIn(request, reply, returnTo);
  }

  // Profile

  @Get()
  async profile(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, '/account', done);
    if (!s) return;
    sendPage(reply, 200, profilePage({ ...s.chrome, email: s.account.email, image: s.account.image, region: s.account.region }));
  }

  @Post('profile')
  async saveProfile(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account');
    if (!s) return;
    const input = { name: field(form, 'name'), image: field(form, 'image'), region: field(form, 'region') };
    try {
      await this.center.updateProfile(s.account.id, input);
      seeOther(reply, '/account?done=profile');
    } catch (error) {
      const e = formError(error, reply);
      sendPage(reply, e.status, profilePage({ ...s.chrome, email: s.account.email, image: s.account.image, region: s.account.region, form: input, error: formMessage(e) }));
    }
  }

  // Password & security

  @Get('security')
  async security(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, '/account/security', done);
    if (!s) return;
    sendPage(reply, 200, securityPage(s.chrome));
  }

  @Post('password')
  async changePassword(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account/security');
    if (!s) return;
    try {
      await this.accounts.changePassword(s.account.id, form.current_password, form.new_password, request.ip);
    } catch (error) {
      const e = formError(error, reply);
      return sendPage(reply, e.status, securityPage({ ...s.chrome, error: formMessage(e) }));
    }
    // Everyone else who had the old password is signed out; this browser stays.
    await this.sessions.destroyAll('user', s.account.id, s.session.id);
    seeOther(reply, '/account/security?done=password');
  }

  @Get('delete')
  async deleteForm(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const s = await this.signedIn(request, reply, '/account/delete');
    if (!s) return;
    const apps = await this.center.listApps(s.account.id);
    sendPage(reply, 200, deletePage({ ...s.chrome, apps: apps.map((a) => a.appName) }));
  }

  @Post('delete')
  async deleteAccount(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account/delete');
    if (!s) return;
    try {
      await this.center.deleteAccount(s.account.id, form.password, request.ip);
    } catch (error) {
      const e = formError(error, reply);
      const apps = await this.center.listApps(s.account.id);
      return sendPage(reply, e.status, deletePage({ ...s.chrome, apps: apps.map((a) => a.appName), error: formMessage(e) }));
    }
    await this.sessions.destroyAll('user', s.account.id);
    await this.userSessions.end(request, reply);
    seeOther(reply, '/account/deleted');
  }

  @Get('deleted')
  deleted(@Res() reply: FastifyReply) {
    sendPage(reply, 200, accountDeletedPage());
  }

  // Email addresses

  private async emailsView(s: Signed, extra: { error?: string; addValue?: string } = {}) {
    const { linked, pending } = await this.linkedEmails.list(s.account.id);
    return emailsPage({ ...s.chrome, linked, pending, devMailbox: this.mailer.usesDevMailbox, ...extra });
  }

  @Get('emails')
  async emails(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, '/account/emails', done);
    if (!s) return;
    sendPage(reply, 200, await this.emailsView(s));
  }

  @Post('emails')
  async addEmail(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account/emails');
    if (!s) return;
    try {
      await this.linkedEmails.requestLink(s.account.id, field(form, 'email'));
      seeOther(reply, '/account/emails?done=email-sent');
    } catch (error) {
      const e = formError(error, reply);
      sendPage(reply, e.status, await this.emailsView(s, { error: formMessage(e), addValue: field(form, 'email') }));
    }
  }

  @Post('emails/remove')
  async removeEmail(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account/emails');
    if (!s) return;
    try {
      await this.center.removeEmail(s.account.id, field(form, 'email'));
      seeOther(reply, '/account/emails?done=email-removed');
    } catch (error) {
      const e = formError(error, reply);
      sendPage(reply, e.status, await this.emailsView(s, { error: formMessage(e) }));
    }
  }

  @Post('emails/primary')
  async makePrimary(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    const s = await this.signedInPost(request, reply, form, '/account/emails');
    if (!s) return;
    try {
      await this.linkedEmails.setPrimary(s.account.id, field(form, 'email'));
      seeOther(reply, '/account/emails?done=primary');
    } catch (error) {
      const e = formError(error, reply);
      sendPage(reply, e.status, await this.emailsView(s, { error: formMessage(e) }));
    }
  }

  /** The emailed link: a confirmation page (no session needed: the link itself is the proof). */
  @Get('emails/verify')
  async verifyForm(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('token') token: unknown) {
    const email = await this.linkedEmails.peek(token);
    sendPage(reply, email ? 200 : 400, verifyEmailPage({ csrf: this.csrf.issue(request, reply), token: typeof token === 'string' ? token : '', email }));
  }

  @Post('emails/verify')
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @FormBody() form: Form) {
    this.csrf.verify(request, form._csrf);
    let result: { userId: number; email: string };
    try {
      result = await this.linkedEmails.verify(form.token);
    } catch (error) {
      const e = formError(error, reply);
      return sendPage(reply, e.status, verifyEmailPage({ csrf: this.csrf.issue(request, reply), token: '', email: null, error: e.description }));
    }
    const session = await this.userSessions.current(request);
    if (session?.subjectId === result.userId) return seeOther(reply, '/account/emails?done=verified');
    sendPage(reply, 200, emailVerifiedPage(result.email));
  }

  // Apps using LoginSign

  @Get('apps')
  async apps(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('done') done: unknown) {
    const s = await this.signedIn(request, reply, '/account/apps', done);
    if (!s) return;
    sendPage(reply, 200, appsPage({ ...s.chrome, apps: await this.center.listApps(s.account.id) }));
  }

  private async appView(s: Signed, connectionId: string, error?: string) {
    const [app, { linked }] = await Promise.all([this.center.getApp(s.account.id, connectionId), this.linkedEmails.list(s.account.id)]);
    return appPage({ ...s.chrome, app, emails: linked.map((e) => e.email), error });
  }

  @Get('apps/:id')
  async app(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @Query('done') done: unknown) {
    const path = connectionPath(id);
    const s = await this.signedIn(request, reply, path, done);
    if (!s) return;
    sendPage(reply, 200, await this.appView(s, id));
  }

  /** Runs one change of an app's settings; 303 back to its page, or the page with the error. */
  private async appChange(request: FastifyRequest, reply: FastifyReply, id: string, form: Form, change: (userId: number) => Promise<string>) {
    const path = connectionPath(id);
    const s = await this.signedInPost(request, reply, form, path);
    if (!s) return;
    try {
      const done = await change(s.account.id);
      seeOther(reply, `${path}?done=${done}`);
    } catch (error) {
      const e = formError(error, reply);
      if (e.code === 'not_found') throw e;
      sendPage(reply, e.status, await this.appView(s, id, formMessage(e)));
    }
  }

  @Post('apps/:id/email')
  async appEmail(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    await this.appChange(request, reply, id, form, async (userId) => {
      const share = field(form, 'share');
      if (!share) throw new AppError('invalid_request', 'Choose which email the app should see.');
      await this.center.shareEmail(userId, id, share);
      return 'app-email';
    });
  }

  @Post('apps/:id/forwarding')
  async forwarding(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    await this.appChange(request, reply, id, form, async (userId) => {
      const on = flag(form, 'isForwarding');
      await this.center.setForwarding(userId, id, on);
      return on ? 'forwarding-on' : 'forwarding-off';
    });
  }

  @Post('apps/:id/mute')
  async mute(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    await this.appChange(request, reply, id, form, async (userId) => {
      const muted = flag(form, 'emailMuted');
      await this.center.setMuted(userId, id, muted);
      return muted ? 'muted' : 'unmuted';
    });
  }

  @Post('apps/:id/revoke')
  async revoke(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string, @FormBody() form: Form) {
    await this.appChange(request, reply, id, form, async (userId) => {
      await this.center.revokeApp(userId, id);
      return 'revoked';
    });
  }
}
