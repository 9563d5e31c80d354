#!/usr/bin/env node
// Container health check: `node scripts/healthcheck.js api|worker|relay`, exit 0 when healthy.
// api: GET /health/ready on PORT (MySQL and Redis reachable). worker, relay: their /metrics
// server answers (WORKER_METRICS_PORT, RELAY_METRICS_PORT; with METRICS_TOKEN when set).
const role = process.argv[2] || 'api';
const env = process.env;
const targets = {
  api: `http://127.0.0.1:${env.PORT || 3000}/health/ready`,
  worker: `http://127.0.0.1:${env.WORKER_METRICS_PORT || 9464}/metrics`,
  relay: `http://127.0.0.1:${env.RELAY_METRICS_PORT || 9465}/metrics`,
};
if (!targets[role]) {
  console.error(`usage: healthcheck.js api|worker|relay (got "${role}")`);
  process.exit(2);
}
const headers = role !== 'api' && env.METRICS_TOKEN ? { authorization: `Bearer ${env.METRICS_TOKEN}` } : {};
fetch(targets[role], { headers, signal: AbortSignal.timeout(4000) })
  .then(async (res) => {
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${targets[role]} answered ${res.status}`);
    process.exit(0);
  })
  .catch((error) => {
    console.error(`unhealthy: ${error.message || error}`);
    process.exit(1);
  });
