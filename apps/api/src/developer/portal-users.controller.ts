import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApplicationUsersService, USER_STATUSES, UserStatus } from '@app/connections';
import { FormBody } from '../shared/body';
import { UpdateUserDto } from './update-user.dto';
import { appPath, PortalApp } from './portal.view';
import { closeUserPage, userDetailPage, UserFilters, usersPage, usersQuery } from './portal-users.view';
import { doneNotice, field, Form, formError, formMessage, renderPage, seeOther, validated } from '../shared/pages';
import { PageSession } from '../shared/page-session.guard';
import { PortalContextService } from './portal-context.service';

const PAGE_SIZE = 25;
const SEARCH_MAX = 320;

const MESSAGES: Record<string, string> = {
  blocked: 'User blocked: their tokens were revoked and they cannot sign in to this app.',
  unblocked: 'User unblocked.',
  forwarding_on: 'Email forwarding turned on.',
  forwarding_off: 'Email forwarding turned off.',
  email: 'Saved. An address other than the relay address is shared only once the user allows it in their account center.',
  closed: 'Account closed.',
};

const message = (key: unknown) => doneNotice(MESSAGES, key);

/** The list's filters from a query or a form; a bad value is dropped (a page, not an API: no 400 for a typo). */
function filtersFrom(source: Record<string, unknown>): UserFilters {
  const one = (name: string) => (typeof source[name] === 'string' ? source[name] : '');
  const search = one('search').trim().slice(0, SEARCH_MAX);
  const status = one('status');
  const cursor = one('cursor');
  return {
    search: search || undefined,
    status: USER_STATUSES.includes(status as UserStatus) ? status : undefined,
    cursor: /^[A-Za-z0-9_.-]{1,512}$/.test(cursor) ? cursor : undefined,
  };
}

/**
 * Developer Portal pages for an application's users: the JSON API's list,
 * PATCH and DELETE through the same ApplicationUsersService, after the same
 * ownership check (another developer's app or connection: 404).
 */
@Controller('developer/apps/:appId/users')
@PageSession('developer')
export class PortalUsersController {
  constructor(
    private readonly users: ApplicationUsersService,
    private readonly sessions: PortalContextService,
  ) {}

  @Get()
  async list(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply, @Param('appId') appId: string, @Query() query: Record<string, unknown>) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    const filters = filtersFrom(query);
    const data = await this.users.list(app.id, { limit: PAGE_SIZE, search: filters.search, status: filters.status as UserStatus | undefined, cursor: filters.cursor });
    return renderPage(reply, 200, usersPage(developer, csrf, app, data, filters, message(query.done)));
  }

  @Get(':connectionId')
  async detail(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    const user = await this.users.get(app.id, connectionId);
    return renderPage(reply, 200, userDetailPage(developer, csrf, app, user, filtersFrom(query), { message: message(query.done) }));
  }

  @Post(':connectionId/block')
  block(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @FormBody() form: Form,
  ) {
    return this.setSwitch(request, reply, appId, connectionId, form, 'blocked', ['blocked', 'unblocked']);
  }

  @Post(':connectionId/forwarding')
  forwarding(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @FormBody() form: Form,
  ) {
    return this.setSwitch(request, reply, appId, connectionId, form, 'isForwarding', ['forwarding_on', 'forwarding_off']);
  }

  /** `appEmail`: "" (also the "Stop sharing" button) = none, the relay address, or an address the user is asked to share (ConnectionStateService.update). */
  @Post(':connectionId/email')
  async email(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @FormBody() form: Form,
  ) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId, form);
    const appEmail = field(form, 'stop') ? '' : field(form, 'appEmail').trim();
    try {
      await this.users.update(app.id, connectionId, await validated(UpdateUserDto, { appEmail }));
    } catch (error) {
      const e = formError(error, reply, ['invalid_request']);
      const user = await this.users.get(app.id, connectionId);
      return renderPage(reply, e.status, userDetailPage(developer, csrf, app, user, filtersFrom(form), { error: formMessage(e) }));
    }
    return this.back(reply, app, connectionId, { ...form, from: 'detail' }, 'email');
  }

  @Get(':connectionId/close')
  async confirmClose(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @Query() query: Record<string, unknown>,
  ) {
    const { developer, csrf, app } = await this.sessions.appContext(request, reply, appId);
    const user = await this.users.get(app.id, connectionId);
    return renderPage(reply, 200, closeUserPage(developer, csrf, app, user, filtersFrom(query)));
  }

  @Post(':connectionId/close')
  async close(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Param('appId') appId: string,
    @Param('connectionId') connectionId: string,
    @FormBody() form: Form,
  ) {
    const { app } = await this.sessions.appContext(request, reply, appId, form);
    await this.users.close(app.id, connectionId);
    return this.back(reply, app, connectionId, { ...form, from: 'list' }, 'closed');
  }

  /** An on/off state of the connection from a form button (`"true"` = on), then back with the matching notice. */
  private async setSwitch(
    request: FastifyRequest,
    reply: FastifyReply,
    appId: string,
    connectionId: string,
    form: Form,
    name: 'blocked' | 'isForwarding',
    [onNotice, offNotice]: [string, string],
  ) {
    const { app } = await this.sessions.appContext(request, reply, appId, form);
    const on = field(form, name) === 'true';
    await this.users.update(app.id, connectionId, await validated(UpdateUserDto, { [name]: on }));
    return this.back(reply, app, connectionId, form, on ? onNotice : offNotice);
  }

  /** 303 to the page the action came from, with its filters and a message. */
  private back(reply: FastifyReply, app: PortalApp, connectionId: string, form: Form, done: string) {
    const query = usersQuery(filtersFrom(form));
    const sep = query ? '&' : '?';
    const path = field(form, 'from') === 'detail' ? `/users/${encodeURIComponent(connectionId)}` : '/users';
    return seeOther(reply, appPath(app.id, `${path}${query}${sep}done=${done}`));
  }
}
