import './tracing';
import { ProcessMetrics } from '@app/common';
import { loadConfig } from '@app/config';
import { createWorker } from './bootstrap';

createWorker(loadConfig())
  .then(({ app, logger }) => logger.info({ metricsPort: app.get(ProcessMetrics).port }, 'LoginSign worker started'))
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
