// Redis Sentinel (a primary, a replica and 3 sentinels, started here): a
// deployment of 2 API + 2 worker processes on `redis+sentinel://` survives a
// manual SENTINEL FAILOVER (the old primary lives on as a replica: writes to
// it answer READONLY) and then the primary being killed.
import { eventually } from '../support/eventually';
import { RedisServer, RedisServers, SENTINEL_MASTER, startRedisSentinel, TestRedisSentinel } from '../support/redis-servers';
import { Deployment, failoverDrill, ServerErrorWatch, startDeployment } from '../support/failover-drill';

describe('Redis Sentinel failover drills: 2 API + 2 worker processes', () => {
  const servers = new RedisServers();
  const watch = new ServerErrorWatch();
  let sentinel: TestRedisSentinel;
  let d: Deployment;

  beforeAll(async () => {
    sentinel = await startRedisSentinel(servers);
    watch.install();
    d = await startDeployment(sentinel.url);
  }, 240_000);

  afterAll(async () => {
    watch.uninstall();
    await d?.stop();
    await servers.stopAll();
  });

  /** The sentinels name another data node as primary, and that node answers as master. */
  const promotedFrom = (old: RedisServer) => async () => {
    const now = await sentinel.primary().catch(() => old);
    if (now === old) return false;
    const [role] = (await now
      .client()
      .role()
      .catch(() => ['unknown'])) as [string];
    return role === 'master';
  };

  it('survives SENTINEL FAILOVER: 503 at most, recovery by itself within 30 s, nothing acknowledged lost', async () => {
    const old = await sentinel.primary();
    const result = await failoverDrill(
      d,
      watch,
      async () => {
        await sentinel.sentinels[0].client().call('SENTINEL', 'FAILOVER', SENTINEL_MASTER);
      },
      promotedFrom(old),
    );
    for (const api of d.apis) await eventually(async () => (await fetch(`${api.baseUrl}/health/ready`)).status === 200, 'readiness');
    console.log(`SENTINEL FAILOVER drill: ${result.failedAttempts} sign-ins failed cleanly; sign-ins succeeded again ${result.recoverySeconds.toFixed(1)} s after the failover`);
  }, 180_000);

  it('survives the primary being killed: 503 at most, recovery by itself within 30 s, nothing acknowledged lost', async () => {
    // The demoted primary has become the replica of the new one.
    await eventually(() => sentinel.replicaReady(), 'a synced replica', 30_000);
    const old = await sentinel.primary();
    const result = await failoverDrill(d, watch, () => old.kill('SIGKILL'), promotedFrom(old));
    for (const api of d.apis) await eventually(async () => (await fetch(`${api.baseUrl}/health/ready`)).status === 200, 'readiness');
    console.log(`primary kill drill: ${result.failedAttempts} sign-ins failed cleanly; sign-ins succeeded again ${result.recoverySeconds.toFixed(1)} s after the kill`);
  }, 180_000);
});
