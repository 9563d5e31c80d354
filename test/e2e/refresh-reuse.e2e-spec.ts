import { expect } from '@jest/globals';
import { DataSource } from 'typeorm';
import { signUpUser } from '../support/accounts';
import { startApi, TestApp } from '../support/harness';
import { ClientApp, connectWithRefresh, createClientApp, currentUser, TokenBody } from '../support/oauth';
import { ageRefreshTokens, refreshFamilyOf } from '../support/refresh-tokens';

const basic = (app: ClientApp) => `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`;

describe('refresh tokens: the reuse window, idle and absolute expiry', () => {
  let t: TestApp;
  let app: ClientApp;
  let db: DataSource;
  const reuseSeconds = 10;
  const idleSeconds = 14 * 86400;
  beforeAll(async () => {
    t = await startApi();
    expect(t.config).toMatchObject({ refreshTokenReuseSeconds: reuseSeconds, refreshTokenIdleSeconds: idleSeconds });
    db = t.app.get(DataSource);
    app = await createClientApp(t.baseUrl);
  });
  afterAll(() => t.close());

  const refresh = async (token: string) => {
    const res = await fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    });
    return { status: res.status, body: (await res.json()) as TokenBody };
  };
  const connect = async () => {
    const { body } = await connectWithRefresh(t.baseUrl, app, await signUpUser(t.baseUrl));
    const connectionId = (await currentUser(t.baseUrl, body.access_token)).body.id;
    return { tokens: body, connectionId, familyId: (await refreshFamilyOf(db, body.refresh_token!))! };
  };
  const apiUserStatus = async (accessToken: string) => (await currentUser(t.baseUrl, accessToken)).res.status;

  it('a replay inside the window gets new tokens of the same family, and the first successor stays valid', async () => {
    const { tokens, familyId } = await connect();
    const first = await refresh(tokens.refresh_token!);
    expect(first.status).toBe(200);
    const replay = await refresh(tokens.refresh_token!);
    expect(replay.status).toBe(200);
    expect(Object.keys(replay.body).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    expect(replay.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(await refreshFamilyOf(db, replay.body.refresh_token!)).toBe(familyId);
    expect(await apiUserStatus(replay.body.access_token)).toBe(200);
    expect(await apiUserStatus(first.body.access_token)).toBe(200);

    // Both successors rotate on as usual.
    const fromFirst = await refresh(first.body.refresh_token!);
    const fromReplay = await refresh(replay.body.refresh_token!);
    expect([fromFirst.status, fromReplay.status]).toEqual([200, 200]);
    expect(await refreshFamilyOf(db, fromFirst.body.refresh_token!)).toBe(familyId);
    expect(await refreshFamilyOf(db, fromReplay.body.refresh_token!)).toBe(familyId);
  });

  it('5 concurrent refreshes of one token all succeed, in one family, each with a usable refresh token', async () => {
    const { tokens, familyId } = await connect();
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(tokens.refresh_token!)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const issued = results.map((r) => r.body.refresh_token!);
    expect(new Set(issued).size).toBe(5);
    for (const token of issued) expect(await refreshFamilyOf(db, token)).toBe(familyId);
    for (const r of results) expect(await apiUserStatus(r.body.access_token)).toBe(200);
    const next = await Promise.all(issued.map((token) => refresh(token)));
    expect(next.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('a replay after the window revokes the family, its access tokens included', async () => {
    const { tokens, connectionId } = await connect();
    const first = await refresh(tokens.refresh_token!);
    expect(first.status).toBe(200);
    const inWindow = await refresh(tokens.refresh_token!);
    expect(inWindow.status).toBe(200);
    await ageRefreshTokens(db, connectionId, reuseSeconds + 1);

    const late = await refresh(tokens.refresh_token!);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('invalid_grant');
    for (const accessToken of [tokens.access_token, first.body.access_token, inWindow.body.access_token]) expect(await apiUserStatus(accessToken)).toBe(401);
    for (const token of [first.body.refresh_token!, inWindow.body.refresh_token!]) expect((await refresh(token)).body.error).toBe('invalid_grant');
  });

  it('a family ends after REFRESH_TOKEN_IDLE_SECONDS without use; each use restarts the idle time', async () => {
    const { tokens, connectionId } = await connect();
    // Just inside the idle time: usable, and the use starts it again.
    await ageRefreshTokens(db, connectionId, idleSeconds - 60);
    const used = await refresh(tokens.refresh_token!);
    expect(used.status).toBe(200);
    await ageRefreshTokens(db, connectionId, idleSeconds - 60);
    const again = await refresh(used.body.refresh_token!);
    expect(again.status).toBe(200);

    await ageRefreshTokens(db, connectionId, idleSeconds);
    const idle = await refresh(again.body.refresh_token!);
    expect(idle.status).toBe(400);
    expect(idle.body).toMatchObject({ error: 'invalid_grant', error_description: 'The refresh token has expired.' });
  });

  it('a family still ends at its absolute lifetime, however recently it was used', async () => {
    const { tokens, familyId } = await connect();
    const used = await refresh(tokens.refresh_token!);
    expect(used.status).toBe(200);
    await db.query('UPDATE refresh_tokens SET family_expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE family_id = ?', [familyId]);
    const expired = await refresh(used.body.refresh_token!);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('invalid_grant');
    // A replay inside the window is no way around it either.
    expect((await refresh(tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });
});
