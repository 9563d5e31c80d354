// The API under test, in its own process so the load generator does not
// share its event loop. Started by index.ts with the configuration in
// BENCH_ENV (JSON); reports its port over IPC and stops when the parent goes.
import 'reflect-metadata';
import { loadConfig } from '@app/config';
import { createApi } from '../../apps/api/src/bootstrap';

async function main(): Promise<void> {
  const config = loadConfig(JSON.parse(process.env.BENCH_ENV ?? '{}') as NodeJS.ProcessEnv);
  const api = await createApi(config);
  await api.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.getHttpServer().address() as { port: number };
  (config as { publicUrl: string }).publicUrl = `http://127.0.0.1:${port}`;
  process.on('disconnect', () => void api.close().then(() => process.exit(0)));
  process.send!({ port });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
