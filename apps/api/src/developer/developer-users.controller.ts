import { Controller, Delete, Get, HttpCode, Param, Patch, Query, UseGuards } from '@nestjs/common';
import { AppError, Session } from '@app/common';
import { ApplicationsService } from '@app/developer';
import { ApplicationUsersService, USER_STATUSES, UserListQuery, UserStatus } from '@app/connections';
import { JsonBody } from '../shared/body';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session.guard';
import { UpdateUserDto } from './update-user.dto';
import { ApiEndpoint } from '../shared/openapi';
import { ApplicationUser, ApplicationUserList } from './developer.schemas';

const SEARCH_MAX = 320;

function invalid(description: string): AppError {
  return new AppError('invalid_request', description);
}

/** `limit`, `cursor`, `search`, `status` of the list; a repeated or malformed one is 400. */
function parseListQuery(query: Record<string, unknown>): UserListQuery {
  const { limit, cursor, search, status } = query;
  for (const [name, value] of Object.entries({ limit, cursor, search, status })) {
    if (value !== undefined && typeof value !== 'string') throw invalid(`${name} must be given once, as a string.`);
  }
  const parsed: UserListQuery = { limit: 50 };
  if (limit !== undefined) {
    if (!/^\d{1,3}$/.test(limit as string) || Number(limit) < 1 || Number(limit) > 100) throw invalid('limit must be a whole number from 1 to 100.');
    parsed.limit = Number(limit);
  }
  if (cursor !== undefined) parsed.cursor = cursor as string;
  if (search !== undefined) {
    const term = (search as string).trim();
    if ([...term].length > SEARCH_MAX) throw invalid(`search must be at most ${SEARCH_MAX} characters.`);
    if (term) parsed.search = term;
  }
  if (status !== undefined) {
    if (!USER_STATUSES.includes(status as UserStatus)) throw invalid(`status must be one of ${USER_STATUSES.join(', ')}.`);
    parsed.status = status as UserStatus;
  }
  return parsed;
}

/** Developer Portal: the users connected to one of the developer's applications. */
@Controller('api/developer/applications/:appId/users')
@UseGuards(DeveloperSessionGuard)
export class DeveloperUsersController {
  constructor(
    private readonly apps: ApplicationsService,
    private readonly users: ApplicationUsersService,
  ) {}

  /** 404 unless the session's developer owns the application. */
  private async owned(session: Session, appId: string): Promise<string> {
    return (await this.apps.getOwned(session.subjectId, appId)).id;
  }

  @ApiEndpoint({
    summary: 'The users connected to the application',
    auth: 'developerOrKey',
    query: {
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
      cursor: { type: 'string', description: 'nextCursor of the previous page.' },
      search: { type: 'string', maxLength: SEARCH_MAX, description: 'Matches globalId, name and the shared email.' },
      status: { type: 'string', enum: [...USER_STATUSES] },
    },
    response: ApplicationUserList,
    errors: ['invalid_request'],
  })
  @Get()
  async list(@CurrentSession() session: Session, @Param('appId') appId: string, @Query() query: Record<string, unknown>) {
    const applicationId = await this.owned(session, appId);
    return this.users.list(applicationId, parseListQuery(query));
  }

  @ApiEndpoint({ summary: "Change a user's connection (at least one field)", auth: 'developerOrKey', body: UpdateUserDto, response: ApplicationUser })
  @Patch(':connectionId')
  async update(@CurrentSession() session: Session, @Param('appId') appId: string, @Param('connectionId') connectionId: string, @JsonBody() body: UpdateUserDto) {
    const applicationId = await this.owned(session, appId);
    return this.users.update(applicationId, connectionId, { isForwarding: body.isForwarding, appEmail: body.appEmail, blocked: body.blocked });
  }

  @ApiEndpoint({ summary: 'Delete the connection (account closure; sends user_account_deleted)', auth: 'developerOrKey', response: null })
  @Delete(':connectionId')
  @HttpCode(204)
  async remove(@CurrentSession() session: Session, @Param('appId') appId: string, @Param('connectionId') connectionId: string) {
    await this.users.close(await this.owned(session, appId), connectionId);
  }
}
