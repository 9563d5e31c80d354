import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppError } from '@app/common';
import { AppConfig } from '@app/config';
import { dataSourceOptions, dropDatabase } from '@app/database';
import { PartitionedGlobalIdSequence1764375100000 } from '../../../database/src/migrations/1764375100000-PartitionedGlobalIdSequence';
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

  /** The partitions with where each starts (a fresh database: the space split in order, from 0). */
  async function partitions(): Promise<{ id: number; start: number; next: number; end: number }[]> {
    const rows = await sources[0].query<{ id: number; next_value: number | string; end_value: number | string }[]>(
      'SELECT id, next_value, end_value FROM global_id_sequence ORDER BY id',
    );
    return rows.map((r, i) => ({ id: r.id, start: i === 0 ? 0 : Number(rows[i - 1].end_value), next: Number(r.next_value), end: Number(r.end_value) }));
  }

  /** Every partition back at its start, or used up but for the last `left` numbers of the space. */
  async function setSequence(left: number | null): Promise<void> {
    for (const p of await partitions()) {
      const next = left === null ? p.start : p.end === GLOBAL_ID_SPACE ? GLOBAL_ID_SPACE - left : p.end;
      await sources[0].query('UPDATE global_id_sequence SET next_value = ? WHERE id = ?', [next, p.id]);
    }
  }

  /** How many numbers the partitions handed out in all. */
  async function handedOut(): Promise<number> {
    return (await partitions()).reduce((sum, p) => sum + p.next - p.start, 0);
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

  it('splits the space into disjoint partitions that cover it', async () => {
    const all = await partitions();
    expect(all.length).toBe(16);
    expect(all[0].start).toBe(0);
    expect(all[all.length - 1].end).toBe(GLOBAL_ID_SPACE);
    for (const p of all) expect(p.end).toBeGreaterThan(p.start);
  });

  it('two processes allocating 20,000 ids concurrently never collide', async () => {
    await setSequence(null);
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
    expect(await handedOut()).toBe(2 * perProcess);
    // From more than one partition (a random pick per block).
    expect((await partitions()).filter((p) => p.next > p.start).length).toBeGreaterThan(1);
  });

  it('closes sign-up with a 503 once the space is used up, without moving past its end', async () => {
    await setSequence(10);
    const a = new GlobalIdService(sources[0], config);
    const b = new GlobalIdService(sources[1], config);
    // The last 10 numbers fit in one block (size 20), reserved by whichever process asks first.
    const last = await Promise.all(Array.from({ length: 10 }, () => a.allocate()));
    expect(new Set(last).size).toBe(10);
    expect(last.filter((id) => !FORMAT.test(id))).toEqual([]);
    const perm = new GlobalIdPermutation(config.secrets.globalIdKey);
    const expected = Array.from({ length: 10 }, (_, i) => formatGlobalId(perm.permute(GLOBAL_ID_SPACE - 10 + i)));
    expect([...last].sort()).toEqual(expected.sort());
    const lastPosition = async () => (await partitions()).find((p) => p.end === GLOBAL_ID_SPACE)!.next;
    expect(await lastPosition()).toBe(GLOBAL_ID_SPACE);

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
    expect(await lastPosition()).toBe(GLOBAL_ID_SPACE);
    expect((await partitions()).every((p) => p.next === p.end)).toBe(true);
  });

  it('the migration to partitions continues after every number the single row issued, and back', async () => {
    const migration = new PartitionedGlobalIdSequence1764375100000();
    const runner = sources[0].createQueryRunner();
    try {
      await migration.down(runner);
      await runner.query('UPDATE global_id_sequence SET next_value = 123457 WHERE id = 1');
      await migration.up(runner);
      const rows = (await runner.query('SELECT next_value, end_value FROM global_id_sequence ORDER BY id')) as { next_value: number | string; end_value: number | string }[];
      expect(rows.length).toBe(16);
      expect(Number(rows[0].next_value)).toBe(123457);
      rows.forEach((r, i) => {
        expect(Number(r.end_value)).toBeGreaterThan(Number(r.next_value));
        if (i > 0) expect(Number(r.next_value)).toBe(Number(rows[i - 1].end_value));
      });
      expect(Number(rows[15].end_value)).toBe(GLOBAL_ID_SPACE);
      // Back to one row: past every number any partition could have handed out.
      await runner.query('UPDATE global_id_sequence SET next_value = next_value + 5');
      await migration.down(runner);
      const [one] = (await runner.query('SELECT next_value FROM global_id_sequence')) as { next_value: number | string }[];
      expect(Number(one.next_value)).toBe(Number(rows[15].next_value) + 5);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
  });
});
