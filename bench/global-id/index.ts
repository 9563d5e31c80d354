// Global User ID allocation rate at the start and at the very end of the id
// space: allocation is O(1), so the two must match (within 20%), unlike a
// random-draw-and-retry scheme that slows down as the space fills.
//   npm run bench:global-id   (needs MySQL/MariaDB; DATABASE_URL picks the server)
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, dropDatabase, migrate } from '@app/database';
import { GLOBAL_ID_SPACE, GlobalIdService } from '../../libs/identity/src/global-id';
import { writeFigures } from '../lib/results';

const COUNT = 100_000;
const CONCURRENCY = 50; // concurrent sign-ups in one API process
const FORMAT = /^[A-Z]{2}[0-9]{4}$/;

const server = new URL(process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/loginsign');
server.pathname = '/loginsign_bench_globalid';
// A minimal environment: its own database, throwaway secrets (nothing written to
// .data/) and the production default GLOBAL_ID_BLOCK_SIZE.
const config = loadConfig({
  DATABASE_URL: server.toString(),
  JWT_SECRET: randomBytes(32).toString('base64'),
  SESSION_SECRET: randomBytes(32).toString('base64'),
  GLOBAL_ID_KEY: randomBytes(32).toString('base64'),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
});

const SLICES = 5; // start and end alternate in slices, so drifting load on the machine hits both alike

/** Allocates exactly `count` ids from sequence `from` in a fresh service; returns seconds taken. */
async function run(ds: DataSource, from: number, count: number): Promise<number> {
  // One partition [from, from + count) open, every other used up.
  await ds.query('UPDATE global_id_sequence SET next_value = end_value');
  await ds.query('UPDATE global_id_sequence SET next_value = ?, end_value = ? WHERE id = 1', [from, from + count]);
  const service = new GlobalIdService(ds, config); // fresh process: empty in-memory block
  const ids = new Set<string>();
  let issued = 0; // exactly `count` calls: at the end of the space one more would get the 503
  const worker = async () => {
    while (issued < count) {
      issued++;
      const id = await service.allocate();
      if (!FORMAT.test(id) || ids.has(id)) throw new Error(`bad or repeated id ${id}`);
      ids.add(id);
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  console.log(`> database ${server.pathname.slice(1)}, block size ${config.globalIdBlockSize}, ${CONCURRENCY} concurrent allocations`);
  await dropDatabase(config.databaseUrl);
  await migrate(config);
  const ds = new DataSource(dataSourceOptions(config));
  await ds.initialize();
  try {
    console.log('> warm-up: 5,000 ids mid-space');
    await run(ds, 3_000_000, 5_000);

    // Start: sequence [0, COUNT). End: the last COUNT numbers, the worst case for retry-based schemes.
    const endFrom = GLOBAL_ID_SPACE - COUNT;
    const slice = COUNT / SLICES;
    let startSeconds = 0;
    let endSeconds = 0;
    console.log(`> ${fmt(COUNT)} ids from sequence 0 and ${fmt(COUNT)} from ${fmt(endFrom)}, in ${SLICES} alternating slices`);
    for (let i = 0; i < SLICES; i++) {
      const s = await run(ds, i * slice, slice);
      const e = await run(ds, endFrom + i * slice, slice);
      startSeconds += s;
      endSeconds += e;
      console.log(`  ${fmt((i + 1) * slice)} / ${fmt(COUNT)} each: start ${fmt(slice / s)}/s, end ${fmt(slice / e)}/s`);
    }
    const start = COUNT / startSeconds;
    const end = COUNT / endSeconds;

    // The space is now used up: the next sign-up must get the 503, not a duplicate.
    const after = await new GlobalIdService(ds, config).allocate().then(
      (id) => `allocated ${id}`,
      (e: { code?: string }) => e.code,
    );
    const [row] = await ds.query<{ next_value: number | string }[]>('SELECT MAX(next_value) AS next_value FROM global_id_sequence');

    console.log('');
    console.log(`start of space : ${fmt(start)} allocations/s`);
    console.log(`end of space   : ${fmt(end)} allocations/s`);
    console.log(`ratio end/start: ${(end / start).toFixed(3)}`);
    console.log(`after the last id: ${after}; sequence at ${fmt(Number(row.next_value))}`);
    const failures: string[] = [];
    if (Math.abs(end - start) / start > 0.2) failures.push('the two rates differ by more than 20%');
    if (after !== 'temporarily_unavailable') failures.push('allocation past the end did not fail with temporarily_unavailable');
    if (Number(row.next_value) !== GLOBAL_ID_SPACE) failures.push('the sequence moved past the end of the space');
    writeFigures('global-id', [
      { key: 'start_rps', label: 'global-id allocations/s, start of the space', value: start, unit: '/s' },
      { key: 'end_rps', label: 'global-id allocations/s, end of the space', value: end, unit: '/s' },
      {
        key: 'end_start_ratio',
        label: 'global-id rate end / start',
        value: end / start,
        unit: 'x',
        target: 'within 0.8-1.2',
        met: Math.abs(end - start) / start <= 0.2,
        note: failures.length ? failures.join('; ') : undefined,
      },
    ]);
    for (const f of failures) console.log(`FAIL: ${f}`);
    if (!failures.length) console.log('OK: allocation cost does not depend on how full the space is');
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    await ds.destroy();
    await dropDatabase(config.databaseUrl);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
