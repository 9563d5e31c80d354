import './tracing';
import { limitHeapGrowth, ProcessMetrics } from '@app/common';
import { loadConfig } from '@app/config';
import { createRelay } from './bootstrap';

const config = loadConfig();
limitHeapGrowth(config.heapGrowingPercent);
createRelay(config)
  .then(({ app, logger, port }) => {
    logger.info({ port, metricsPort: app.get(ProcessMetrics).port }, 'LoginSign relay started');
    const { dkim } = config.relay;
    if (dkim) console.log(`Relay DKIM: publish ${dkim.selector}._domainkey.${config.relayDomain}. TXT "${dkim.dnsRecord}"`);
    else console.log('Relay DKIM: RELAY_DKIM_KEY is not set, outgoing relay mail is not signed');
    // Plain line for scripts and tests that start the relay on port 0.
    console.log(`LoginSign relay listening on port ${port}`);
  })
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
