import { loadConfig } from '@app/config';
import { createWorker } from './bootstrap';

createWorker(loadConfig())
  .then(({ logger }) => logger.info('LoginSign worker started'))
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
