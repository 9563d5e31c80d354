import { DataSource } from 'typeorm';
import { AuthzVersion } from './authz-version';
import { TokenLookupCache } from './token-lookup-cache';

/** A query function whose answers the test releases one by one. */
function controlledDb() {
  const pending: (() => void)[] = [];
  let version = 0;
  // Each read answers with the version as it was when the read started.
  const db = {
    query: () =>
      new Promise((resolve) => {
        const seen = version;
        pending.push(() => resolve([{ version: seen }]));
      }),
  } as unknown as DataSource;
  return {
    db,
    get queries() {
      return pending.length;
    },
    bump: () => version++,
    answerNext: () => pending.shift()!(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AuthzVersion', () => {
  it('serves any number of concurrent callers with at most two reads', async () => {
    const db = controlledDb();
    const gate = new AuthzVersion(db.db);
    const reads = Array.from({ length: 50 }, () => gate.current());
    expect(db.queries).toBe(1); // the first caller's read; the other 49 wait for the next one
    db.answerNext();
    await tick();
    expect(db.queries).toBe(1);
    db.answerNext();
    expect(await Promise.all(reads)).toEqual(Array(50).fill(0));
  });

  it('never lets a caller join a read that started before it arrived', async () => {
    const db = controlledDb();
    const gate = new AuthzVersion(db.db);
    const early = gate.current(); // read 1 starts, sees version 0
    db.bump(); // a revocation commits while read 1 is in flight...
    const late = gate.current(); // ...so this caller must wait for read 2
    const later = gate.current(); // and shares read 2
    db.answerNext();
    await tick();
    expect(await early).toBe(0);
    expect(db.queries).toBe(1);
    db.answerNext();
    expect(await late).toBe(1);
    expect(await later).toBe(1);
  });

  it('recovers after a failed read', async () => {
    let fail = true;
    const db = { query: async () => (fail ? Promise.reject(new Error('down')) : [{ version: 7 }]) } as unknown as DataSource;
    const gate = new AuthzVersion(db);
    await expect(gate.current()).rejects.toThrow('down');
    fail = false;
    expect(await gate.current()).toBe(7);
  });
});

describe('TokenLookupCache', () => {
  it('answers only for the same version and before expiry', () => {
    const cache = new TokenLookupCache<string>();
    cache.set('t1', 'row', 5, Date.now() + 60_000);
    cache.set('t2', 'row', 5, Date.now() - 1);
    expect(cache.get('t1', 5)).toBe('row');
    expect(cache.get('t1', 6)).toBeUndefined();
    expect(cache.get('t1', 5)).toBeUndefined(); // dropped when the version moved
    expect(cache.get('t2', 5)).toBeUndefined();
  });
});
