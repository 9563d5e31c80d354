import './tracing';
import { limitHeapGrowth, ProcessMetrics } from '@app/common';
import { loadConfig } from '@app/config';
import { createWorker } from './bootstrap';

const config = loadConfig();
limitHeapGrowth(config.heapGrowingPercent);
createWorker(config)
  .then(({ app, logger }) => logger.info({ metricsPort: app.get(ProcessMetrics).port }, 'LoginSign worker started'))
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
