import './tracing';
import { ProcessMetrics } from '@app/common';
import { loadConfig } from '@app/config';
import { createRelay } from './bootstrap';

createRelay(loadConfig())
  .then(({ app, logger, port }) => {
    logger.info({ port, metricsPort: app.get(ProcessMetrics).port }, 'LoginSign relay started');
    // Plain line for scripts and tests that start the relay on port 0.
    console.log(`LoginSign relay listening on port ${port}`);
  })
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
