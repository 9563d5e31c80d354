import { createConnection, Connection } from 'mysql2/promise';
import { isDeadlock, retryOnDeadlock } from '@app/common';
import { developerRequest, readJson } from '../support/developer';
import { startApi, TestApp } from '../support/harness';
import { createClientApp } from '../support/oauth';

describe('deadlocks: the victim transaction runs again', () => {
  let t: TestApp;
  let a: Connection;
  let b: Connection;

  beforeAll(async () => {
    t = await startApi();
    a = await createConnection(t.config.databaseUrl);
    b = await createConnection(t.config.databaseUrl);
    await a.query('CREATE TABLE lock_pair (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB');
    await a.query('INSERT INTO lock_pair (id, n) VALUES (1, 0), (2, 0)');
    await a.query('CREATE TABLE lock_heavy (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB');
    await a.query(`INSERT INTO lock_heavy (id, n) VALUES ${Array.from({ length: 200 }, (_, i) => `(${i + 1}, 0)`).join(', ')}`);
  });
  afterAll(async () => {
    await a?.end();
    await b?.end();
    await t.close();
  });

  it('retries a real deadlock victim until it commits', async () => {
    // A holds row 1 (and many other rows: the database then picks B, the lighter one, as the victim).
    await a.query('BEGIN');
    await a.query('UPDATE lock_heavy SET n = n + 1');
    await a.query('UPDATE lock_pair SET n = n + 1 WHERE id = 1');

    let attempts = 0;
    let bHoldsRow2!: () => void;
    const bLocked = new Promise<void>((resolve) => (bHoldsRow2 = resolve));
    const victim = retryOnDeadlock(async () => {
      attempts++;
      await b.query('BEGIN');
      try {
        await b.query('UPDATE lock_pair SET n = n + 10 WHERE id = 2');
        bHoldsRow2();
        await b.query('UPDATE lock_pair SET n = n + 10 WHERE id = 1');
        await b.query('COMMIT');
      } catch (error: unknown) {
        await b.query('ROLLBACK');
        throw error;
      }
    });
    await bLocked;
    // A now waits for row 2 while B waits for row 1: a cycle, one of them is rolled back.
    const aWaits = a.query('UPDATE lock_pair SET n = n + 1 WHERE id = 2');
    await aWaits;
    await a.query('COMMIT');
    await victim;

    expect(attempts).toBe(2);
    const [rows] = await a.query('SELECT id, n FROM lock_pair ORDER BY id');
    expect(rows).toEqual([
      { id: 1, n: 11 },
      { id: 2, n: 11 },
    ]);
  });

  it('throws other errors at once, and a deadlock after the last attempt', async () => {
    let calls = 0;
    await expect(
      retryOnDeadlock(() => {
        calls++;
        return Promise.reject(Object.assign(new Error('duplicate'), { code: 'ER_DUP_ENTRY' }));
      }),
    ).rejects.toThrow('duplicate');
    expect(calls).toBe(1);
    calls = 0;
    const deadlock = Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });
    expect(isDeadlock(deadlock)).toBe(true);
    await expect(
      retryOnDeadlock(() => {
        calls++;
        return Promise.reject(deadlock);
      }, 3),
    ).rejects.toBe(deadlock);
    expect(calls).toBe(3);
  });

  it('answers 202 to every one of many concurrent test pings and redeliveries', async () => {
    const client = await createClientApp(t.baseUrl);
    const path = `/api/developer/applications/${client.id}`;
    const set = await developerRequest(t.baseUrl, client.developerCookie, 'PATCH', path, { webhookUrl: 'https://hooks.example.com/in' });
    expect(set.status).toBe(200);
    const first = await readJson<{ id: string }>(await developerRequest(t.baseUrl, client.developerCookie, 'POST', `${path}/webhooks/test`));
    const statuses = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        developerRequest(t.baseUrl, client.developerCookie, 'POST', i % 2 ? `${path}/webhooks/test` : `${path}/webhooks/deliveries/${first.id}/redeliver`).then(
          (res) => res.status,
        ),
      ),
    );
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
  });
});
