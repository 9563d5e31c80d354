import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError, randomToken } from '@app/common';
import { OAuthModule, TokensRepository } from '@app/oauth';
import { WebhookEventsRepository } from '@app/webhooks';
import { createApplication, createDeveloper, signUpUser, startServices, TestServices } from '../../../test/support/services';
import { ConnectionStateService } from './connection-state.service';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';

/**
 * Service-level tests on the real MariaDB and Redis: the connection state
 * rules (counters, token revocation, events, scope) tested where they live,
 * without HTTP. OAuthModule is imported for its grant revoker, as in the API.
 */
describe('ConnectionStateService (real MariaDB and Redis)', () => {
  let services: TestServices;
  let ctx: INestApplicationContext;
  let state: ConnectionStateService;
  let consents: ConnectionsService;
  let connections: ConnectionsRepository;
  let tokens: TokensRepository;
  let events: WebhookEventsRepository;
  let db: DataSource;
  let appId: string;
  let otherAppId: string;

  beforeAll(async () => {
    services = await startServices(OAuthModule);
    ctx = services.ctx;
    state = ctx.get(ConnectionStateService);
    consents = ctx.get(ConnectionsService);
    connections = ctx.get(ConnectionsRepository);
    tokens = ctx.get(TokensRepository);
    events = ctx.get(WebhookEventsRepository);
    db = ctx.get(DataSource);
    const developerId = await createDeveloper(ctx);
    const webhookUrl = 'https://hooks.example.com/in';
    appId = await createApplication(ctx, developerId, { webhookUrl });
    otherAppId = await createApplication(ctx, developerId, { name: 'Other', webhookUrl });
  });

  afterAll(() => services?.close());

  async function connectedUser(applicationId = appId) {
    const user = await signUpUser(ctx);
    const connection = await consents.grantConsent(applicationId, user.id, ['profile', 'email'], { kind: 'relay' });
    const jti = randomToken(16);
    await db.transaction((m) => tokens.insertAccessToken(m, jti, connection.id, randomToken(16), 'profile', 600));
    return { user, connection, jti };
  }

  async function eventTypes(applicationId: string, connectionId: string): Promise<string[]> {
    const rows = await events.page(applicationId, null, 1000);
    const types: string[] = [];
    for (const row of [...rows].reverse()) {
      const full = await events.find(applicationId, row.id);
      const payload = JSON.parse(full!.payload) as { type: string; data: { connectionId?: string } };
      if (payload.data.connectionId === connectionId) types.push(payload.type);
    }
    return types;
  }

  const counts = async (applicationId: string) => ({
    active: await connections.countAll(applicationId, 'active'),
    inactive: await connections.countAll(applicationId, 'inactive'),
    blocked: await connections.countAll(applicationId, 'blocked'),
  });

  it('blocking moves the counters, revokes the tokens at once and records user_blocked; unblocking does not revive them', async () => {
    const { connection, jti } = await connectedUser();
    const before = await counts(appId);
    expect(await tokens.lookupAccessToken(jti)).not.toBeNull();

    await state.update(appId, connection.id, { blocked: true });
    expect(await counts(appId)).toEqual({ ...before, active: before.active - 1, blocked: before.blocked + 1 });
    expect(await tokens.lookupAccessToken(jti)).toBeNull();

    await state.update(appId, connection.id, { blocked: false });
    expect(await counts(appId)).toEqual(before);
    expect(await tokens.lookupAccessToken(jti)).toBeNull();
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected', 'user_blocked', 'user_unblocked']);
  });

  it('a change that changes nothing records no event', async () => {
    const { connection } = await connectedUser();
    await state.update(appId, connection.id, { isForwarding: connection.isForwarding, appEmail: connection.relayAddress });
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected']);
  });

  it('applies "" and the relay address at once; any other address only becomes a request, recorded for a confirmed address of the user', async () => {
    const { user, connection } = await connectedUser();
    const requestOf = async () => (await db.query<{ email: string }[]>('SELECT email FROM connection_email_requests WHERE connection_id = ?', [connection.id]))[0]?.email ?? null;
    await expect(state.update(appId, connection.id, { appEmail: 'not an address' })).rejects.toMatchObject({ code: 'invalid_request' });
    await state.update(appId, connection.id, { appEmail: 'stranger@example.com' });
    expect(await requestOf()).toBeNull();
    // The sign-up address is not confirmed yet: no request either.
    await state.update(appId, connection.id, { appEmail: user.email });
    expect(await requestOf()).toBeNull();
    await db.query('UPDATE user_emails SET confirmed_at = UTC_TIMESTAMP(3) WHERE user_id = ?', [user.id]);
    await state.update(appId, connection.id, { appEmail: user.email.toUpperCase() });
    expect(await requestOf()).toBe(user.email);
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(connection.relayAddress);

    await state.update(appId, connection.id, { appEmail: '' });
    expect((await connections.getView(appId, connection.id))!.shared_email).toBeNull();
    await state.update(appId, connection.id, { appEmail: connection.relayAddress });
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(connection.relayAddress);
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected', 'user_email_changed', 'user_email_changed']);

    expect(await state.answerEmailRequest(user.id, connection.id, true)).toBe('shared');
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(user.email);
    expect(await requestOf()).toBeNull();
    expect(await state.answerEmailRequest(user.id, connection.id, true)).toBe('gone');
  });

  it('allow checks the address again: one that stopped being confirmed is not shared', async () => {
    const { user, connection } = await connectedUser();
    await db.query('UPDATE user_emails SET confirmed_at = UTC_TIMESTAMP(3) WHERE user_id = ?', [user.id]);
    await state.update(appId, connection.id, { appEmail: user.email });
    await db.query('UPDATE user_emails SET confirmed_at = NULL WHERE user_id = ?', [user.id]);
    expect(await state.answerEmailRequest(user.id, connection.id, true)).toBe('gone');
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(connection.relayAddress);
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected']);
  });

  it('after the user chose "Don\'t share", the relay address is a request too; decline drops it', async () => {
    const user = await signUpUser(ctx);
    const connection = await consents.grantConsent(appId, user.id, ['profile', 'email'], { kind: 'none' });
    await state.update(appId, connection.id, { appEmail: connection.relayAddress, isForwarding: false });
    const view = (await connections.getView(appId, connection.id))!;
    expect({ shared: view.shared_email, forwarding: view.is_forwarding }).toEqual({ shared: null, forwarding: 0 });
    // Decline removes the request: nothing is left to allow.
    expect(await state.answerEmailRequest(user.id, connection.id, false)).toBe('declined');
    expect(await state.answerEmailRequest(user.id, connection.id, true)).toBe('gone');
    expect((await connections.getView(appId, connection.id))!.shared_email).toBeNull();

    await state.update(appId, connection.id, { appEmail: connection.relayAddress });
    expect(await state.answerEmailRequest(user.id, connection.id, true)).toBe('shared');
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(connection.relayAddress);
    // Once the user shares again, "" and the relay address by the developer apply at once.
    await state.update(appId, connection.id, { appEmail: '' });
    await state.update(appId, connection.id, { appEmail: connection.relayAddress });
    expect((await connections.getView(appId, connection.id))!.shared_email).toBe(connection.relayAddress);
  });

  it('revoking consent deactivates once: counters, tokens and one user_consent_revoked', async () => {
    const { user, connection, jti } = await connectedUser();
    const before = await counts(appId);
    await state.revokeConsent(user.id, connection.id);
    await state.revokeConsent(user.id, connection.id);
    expect(await counts(appId)).toEqual({ ...before, active: before.active - 1, inactive: before.inactive + 1 });
    expect(await tokens.lookupAccessToken(jti)).toBeNull();
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected', 'user_consent_revoked']);
  });

  it('a change outside its scope is 404 and changes nothing', async () => {
    const { user, connection } = await connectedUser();
    const other = await connectedUser(otherAppId);
    await expect(state.update(otherAppId, connection.id, { blocked: true })).rejects.toMatchObject({ code: 'not_found' });
    await expect(state.revokeConsent(user.id, other.connection.id)).rejects.toBeInstanceOf(AppError);
    expect((await connections.getView(appId, connection.id))!.blocked).toBe(0);
    expect((await connections.getView(otherAppId, other.connection.id))!.active).toBe(1);
  });

  it('closing deletes the connection, takes it out of the counters and records user_account_deleted', async () => {
    const { connection } = await connectedUser();
    const before = await counts(appId);
    await state.close(appId, connection.id);
    expect(await connections.getView(appId, connection.id)).toBeNull();
    expect(await counts(appId)).toEqual({ ...before, active: before.active - 1 });
    expect(await eventTypes(appId, connection.id)).toEqual(['user_connected', 'user_account_deleted']);
  });
});

describe('ConnectionsRepository search (real MariaDB)', () => {
  let services: TestServices;
  let ctx: INestApplicationContext;
  let repo: ConnectionsRepository;
  let appId: string;

  beforeAll(async () => {
    services = await startServices(OAuthModule);
    ctx = services.ctx;
    repo = ctx.get(ConnectionsRepository);
    appId = await createApplication(ctx, await createDeveloper(ctx));
    const consents = ctx.get(ConnectionsService);
    for (const name of ['100% Real', '100 Percent', 'a_b', 'axb']) {
      const user = await signUpUser(ctx, name);
      await consents.grantConsent(appId, user.id, ['profile'], { kind: 'none' });
    }
  });

  afterAll(() => services?.close());

  it('matches prefixes only, with LIKE wildcards taken literally', async () => {
    const names = async (term: string) => (await repo.searchPage(appId, term, undefined, null, 10)).rows.map((r) => r.name).sort();
    expect(await names('100%')).toEqual(['100% Real']);
    expect(await names('100')).toEqual(['100 Percent', '100% Real']);
    expect(await names('a_')).toEqual(['a_b']);
    expect(await names('Real')).toEqual([]);
  });

  it('keeps the counters exact without counting rows', async () => {
    expect(await repo.countAll(appId)).toBe(4);
    expect(await repo.countAll(appId, 'active')).toBe(4);
    expect((await repo.searchPage(appId, '100', undefined, null, 10)).total).toBe(2);
  });
});
