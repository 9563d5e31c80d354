import { Controller, Delete, Get, Header, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { isoUtc, Session } from '@app/common';
import { ApiKeyRecord, ApiKeysService, CreateApiKeyDto } from '@app/developer';
import { JsonBody } from '../shared/body';
import { ApiEndpoint } from '../shared/openapi';
import { CurrentSession, DeveloperSessionGuard } from '../shared/session.guard';
import { ApiKeyList, CreatedApiKey } from './developer.schemas';

/** An API key as the portal API shows it: never the key itself. */
export function presentApiKey(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    createdAt: isoUtc(key.createdAt),
    lastUsedAt: isoUtc(key.lastUsedAt),
    expiresAt: isoUtc(key.expiresAt),
    revokedAt: isoUtc(key.revokedAt),
  };
}

/**
 * Developer Portal: the session's developer manages their API keys. Cookie
 * session only: the guard accepts keys on the applications API alone, so a
 * key cannot list, mint or revoke keys.
 */
@Controller('api/developer/api-keys')
@UseGuards(DeveloperSessionGuard)
export class DeveloperApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  /** The only response that carries the key. */
  @ApiEndpoint({ summary: 'Create an API key (the key is shown once)', auth: 'developer', body: CreateApiKeyDto, response: CreatedApiKey })
  @Post()
  @Header('cache-control', 'no-store')
  async create(@CurrentSession() session: Session, @JsonBody() body: CreateApiKeyDto) {
    const { apiKey, key } = await this.keys.create(session.subjectId, body);
    return { ...presentApiKey(apiKey), key };
  }

  @ApiEndpoint({ summary: "The developer's API keys (never the keys themselves)", auth: 'developer', response: ApiKeyList })
  @Get()
  async list(@CurrentSession() session: Session) {
    return { apiKeys: (await this.keys.list(session.subjectId)).map(presentApiKey) };
  }

  @ApiEndpoint({ summary: 'Revoke an API key', auth: 'developer', response: null })
  @Delete(':keyId')
  @HttpCode(204)
  async revoke(@CurrentSession() session: Session, @Param('keyId') keyId: string) {
    await this.keys.revoke(session.subjectId, keyId);
  }
}
