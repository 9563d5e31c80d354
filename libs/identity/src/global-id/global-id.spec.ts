import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppError } from '@app/common';
import { AppConfig } from '@app/config';
import { dataSourceOptions, dropDatabase } from '@app/database';
import { testConfig } from '../../../../test/support/harness';
import { formatGlobalId, GLOBAL_ID_SPACE, GlobalIdPermutation } from './global-id-permutation';
import { GlobalIdService } from './global-id.service';

const FORMAT = /^[A-Z]{2}[0-9]{4}$/;

/** Inverse of formatGlobalId (char codes only: global lookups are slow in jest's vm), to show formatting is injective too. */
function parse(id: string): number {
  let v = (id.charCodeAt(0) - 65) * 26 + (id.charCodeAt(1) - 65);
  for (let i = 2; i < 6; i++) v = v * 10 + (id.charCodeAt(i) - 48);
  return v;
}

describe('GlobalIdPermutation', () => {
  it('is a bijection on the whole space and every output formats as XX1234', () => {
    const perm = new GlobalIdPermutation(randomBytes(32));
    const seen = new Uint8Array(GLOBAL_ID_SPACE);
    for (let n = 0; n < GLOBAL_ID_SPACE; n++) {
      const v = perm.permute(n);
      if (!(v >= 0 && v < GLOBAL_ID_SPACE) || seen[v]) throw new Error(`permute(${n}) = ${v}: out of range or repeated`);
      seen[v] = 1;
      const id = formatGlobalId(v);
      if (!FORMAT.test(id) || parse(id) !== v) throw new Error(`formatGlobalId(${v}) = ${id}`);
    }
    expect(seen.indexOf(0)).toBe(-1);
  });

  it('formats the ends of the space', () => {
    expect(formatGlobalId(0)).toBe('AA0000');
    expect(formatGlobalId(10000)).toBe('AB0000');
    expect(formatGlobalId(GLOBAL_ID_SPACE - 1)).toBe('ZZ9999');
    expect(() => formatGlobalId(GLOBAL_ID_SPACE)).toThrow(RangeError);
    expect(() => formatGlobalId(-1)).toThrow(RangeError);
  });

  it('depends on the key and not just the sequence', () => {
    const key = randomBytes(32);
    const a = new GlobalIdPermutation(key);
    const same = new GlobalIdPermutation(Buffer.from(key));
    const b = new GlobalIdPermutation(randomBytes(32));
    const first = (p: GlobalIdPermutation) => Array.from({ length: 1000 }, (_, n) => p.permute(n));
    expect(first(same)).toEqual(first(a));
    const [fa, fb] = [first(a), first(b)];
    expect(fa.filter((v, i) => v !== fb[i]).length).toBeGreaterThan(990);
    // Consecutive sequence numbers do not give neighbouring ids.
    expect(fa).not.toEqual([...fa].sort((x, y) => x - y));
  });
});

describe('GlobalIdService (real MariaDB)', () => {
  let config: AppConfig;
  const sources: DataSource[] = [];

  async function openDataSource(): Promise<DataSource> {
    const ds = new DataSource(dataSourceOptions(config));
    await ds.initialize();
    sources.push(ds);
    return ds;
  }

  async function setSequence(value: number): Promise<void> {
    await sources[0].query('UPDATE global_id_sequence SET next_value = ? WHERE id = 1', [value]);
  }

  async function sequence(): Promise<number> {
    const [row] = await sources[0].query<{ next_value: number | string }[]>('SELECT next_value FROM global_id_sequence WHERE id = 1');
    return Number(row.next_value);
  }

  beforeAll(async () => {
    config = await testConfig();
    await openDataSource();
    await openDataSource();
  });

  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    if (config) await dropDatabase(config.databaseUrl);
  });

  it('two processes allocating 20,000 ids concurrently never collide', async () => {
    await setSequence(0);
    // Two services on two pools, like two API processes sharing one database.
    const services = [new GlobalIdService(sources[0], config), new GlobalIdService(sources[1], config)];
    const perProcess = 10_000;
    const waves = 50; // 200 concurrent allocate() calls per process per wave
    const ids: string[] = [];
    for (let w = 0; w < waves; w++) {
      const batch = await Promise.all(services.flatMap((s) => Array.from({ length: perProcess / waves }, () => s.allocate())));
      ids.push(...batch);
    }
    expect(ids).toHaveLength(2 * perProcess);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !FORMAT.test(id))).toEqual([]);
    // Blocks are handed out exactly: nothing reserved beyond what was used up.
    expect(await sequence()).toBe(2 * perProcess);
  });

  it('closes sign-up with a 503 once the space is used up, without moving past its end', async () => {
    await setSequence(GLOBAL_ID_SPACE - 10);
    const a = new GlobalIdService(sources[0], config);
    const b = new GlobalIdService(sources[1], config);
    // The last 10 numbers fit in one block (size 20), reserved by whichever process asks first.
    const last = await Promise.all(Array.from({ length: 10 }, () => a.allocate()));
    expect(new Set(last).size).toBe(10);
    expect(last.filter((id) => !FORMAT.test(id))).toEqual([]);
    const perm = new GlobalIdPermutation(config.secrets.globalIdKey);
    const expected = Array.from({ length: 10 }, (_, i) => formatGlobalId(perm.permute(GLOBAL_ID_SPACE - 10 + i)));
    expect([...last].sort()).toEqual(expected.sort());
    expect(await sequence()).toBe(GLOBAL_ID_SPACE);

    for (const service of [a, b, a]) {
      const error = await service.allocate().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
      expect((error as AppError).description).toBe('LoginSign has run out of Global User IDs; sign-up is closed.');
    }
    // Many callers at once, in fresh processes, all get the same clear error.
    const fresh = [new GlobalIdService(sources[0], config), new GlobalIdService(sources[1], config)];
    const results = await Promise.allSettled(fresh.flatMap((s) => Array.from({ length: 10 }, () => s.allocate())));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as AppError).code : 'allocated'))).toEqual(Array(20).fill('temporarily_unavailable'));
    expect(await sequence()).toBe(GLOBAL_ID_SPACE);
  });
});
