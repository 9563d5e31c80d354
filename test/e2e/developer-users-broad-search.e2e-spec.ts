// A broad search of the developer's user list: `total` is exact up to 1,000
// matches, then "1,000+" (totalIsLowerBound), and the page comes from the
// (joined_at, id) index. Its own database: seeded Global IDs cannot collide
// with users signed up by other tests.
import { DataSource } from 'typeorm';
import { createApplication, developerRequest, readJson, signUpDeveloper, UsersPage } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { seedConnections } from '../support/seed';

describe('Developer Portal: a search matching more than 1,000 users', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  async function devApp() {
    const developer = await signUpDeveloper(t.baseUrl);
    const app = await createApplication(t.baseUrl, developer.cookie, { redirectUris: ['https://client.example/cb'], webhookUrl: null });
    return { id: app.id, developerCookie: developer.cookie };
  }

  const list = async (app: { id: string; developerCookie: string }, query: Record<string, string> = {}) => {
    const res = await developerRequest(t.baseUrl, app.developerCookie, 'GET', `/api/developer/applications/${app.id}/users?${new URLSearchParams(query).toString()}`);
    return { res, body: await readJson<UsersPage>(res) };
  };

  it('counts a broad search up to 1,000 and then says "1,000+", paging it in the same order as the list', async () => {
    const app = await devApp();
    await seedConnections(db(), app.id, 1_005); // all named "Seeded <n>"
    const broad = (await list(app, { search: 'Seeded', limit: '40' })).body;
    expect(broad.total).toBe(1_000);
    expect(broad.totalIsLowerBound).toBe(true);
    // The pages of the broad search are those of the whole list (every user matches).
    const all = (await list(app, { limit: '40' })).body;
    expect(all.total).toBe(1_005);
    expect(all.totalIsLowerBound).toBeUndefined();
    expect(broad.users.map((u) => u.id)).toEqual(all.users.map((u) => u.id));
    const broadNext = (await list(app, { search: 'Seeded', limit: '40', cursor: broad.nextCursor! })).body;
    const allNext = (await list(app, { limit: '40', cursor: all.nextCursor! })).body;
    expect(broadNext.users.map((u) => u.id)).toEqual(allNext.users.map((u) => u.id));
    // A narrower term is counted exactly: "Seeded 100" and "Seeded 1000".."Seeded 1004".
    const narrow = (await list(app, { search: 'Seeded 100' })).body;
    expect(narrow.total).toBe(6);
    expect(narrow.totalIsLowerBound).toBeUndefined();
    expect(narrow.users.map((u) => u.name).sort()).toEqual(['Seeded 100', 'Seeded 1000', 'Seeded 1001', 'Seeded 1002', 'Seeded 1003', 'Seeded 1004']);
    // The portal page shows the bound.
    const page = await developerRequest(t.baseUrl, app.developerCookie, 'GET', `/developer/apps/${app.id}/users?search=Seeded`);
    expect(await page.text()).toContain('1,000+ users match');
  }, 60_000);
});
