import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { randomToken } from '@app/common';
import { ConnectionsService } from '@app/connections';
import { createApplication, createDeveloper, signUpUser, startServices, TestServices } from '../../../../test/support/services';
import { OAuthModule } from '../oauth.module';
import { TokensRepository } from '../tokens.repository';
import { GrantsService } from './grants.service';

/** GrantsService.revoke() on the real MariaDB and Redis: what each target ends, and what it leaves alone. */
describe('GrantsService (real MariaDB and Redis)', () => {
  let services: TestServices;
  let ctx: INestApplicationContext;
  let grants: GrantsService;
  let tokens: TokensRepository;
  let db: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    services = await startServices(OAuthModule);
    ctx = services.ctx;
    grants = ctx.get(GrantsService);
    tokens = ctx.get(TokensRepository);
    db = ctx.get(DataSource);
    const appId = await createApplication(ctx, await createDeveloper(ctx));
    const user = await signUpUser(ctx);
    connectionId = (await ctx.get(ConnectionsService).grantConsent(appId, user.id, ['profile'], { kind: 'relay' })).id;
  });

  afterAll(() => services?.close());

  async function accessToken(grantId: string): Promise<string> {
    const jti = randomToken(16);
    await db.transaction((m) => tokens.insertAccessToken(m, jti, connectionId, grantId, 'profile', 600));
    return jti;
  }

  it('a replayed code ends the access tokens of its grant only, and marks the grant for exchanges racing the replay', async () => {
    const [replayed, other] = [randomToken(16), randomToken(16)];
    const [a, b] = [await accessToken(replayed), await accessToken(other)];
    expect(await grants.isRevoked(replayed)).toBe(false);
    await grants.revoke({ grantId: replayed });
    expect(await tokens.lookupAccessToken(a)).toBeNull();
    expect(await tokens.lookupAccessToken(b)).not.toBeNull();
    expect(await grants.isRevoked(replayed)).toBe(true);
    expect(await grants.isRevoked(other)).toBe(false);
  });

  it('a refresh token family ends without marking its grant', async () => {
    const family = randomToken(16);
    const jti = await accessToken(family);
    await grants.revoke({ familyId: family });
    expect(await tokens.lookupAccessToken(jti)).toBeNull();
    expect(await grants.isRevoked(family)).toBe(false);
  });

  it("a connection's tokens end in the caller's transaction: a rollback keeps them", async () => {
    const jti = await accessToken(randomToken(16));
    await expect(
      db.transaction(async (m) => {
        await grants.revoke({ connectionId, manager: m });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await tokens.lookupAccessToken(jti)).not.toBeNull();
    await db.transaction((m) => grants.revoke({ connectionId, manager: m }));
    expect(await tokens.lookupAccessToken(jti)).toBeNull();
  });
});
