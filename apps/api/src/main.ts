import { loadConfig } from '@app/config';
import { createApi } from './bootstrap';

async function main() {
  const config = loadConfig();
  const app = await createApi(config);
  await app.listen({ port: config.port, host: config.host });
  app.getHttpAdapter().getInstance().log.info(`LoginSign API listening on ${config.publicUrl}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
