// Redis Cluster (3 masters + 3 replicas, started here): every Redis-backed
// flow runs on it (a MULTI, Lua script or multi-key command crossing slots
// would answer 500 with CROSSSLOT), keys spread over the masters, and the
// deployment survives the busiest master being killed, relay mail included.
import { expect } from '@jest/globals';
import { createTransport } from 'nodemailer';
import { DataSource } from 'typeorm';
import { SessionCounts } from '@app/connections';
import { startApi, TestApp } from '../support/harness';
import { loginUser, signUpUser } from '../support/accounts';
import { codeFor, createClientApp, currentUser, exchangeCode } from '../support/oauth';
import { mailsTo } from '../support/mailbox';
import { eventually } from '../support/eventually';
import { RedisServers, startRedisCluster, TestRedisCluster } from '../support/redis-servers';
import { Deployment, failoverDrill, ServerErrorWatch, startDeployment } from '../support/failover-drill';
import { RelayProcess, Sink, startRelay, startSink } from '../support/relay';
import { publishSender, registerSenders, startDns, TestDns } from '../support/dns';
import { Row } from '../support/db';

/** What the relay answered: 250, or the SMTP code of its refusal. */
async function sendThroughRelay(port: number, to: string, subject: string): Promise<number> {
  const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ from: 'news@app.example', to, subject, text: 'relay drill' });
    return 250;
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    if (!code) return 421; // Connection refused or dropped: what a sending server retries like a 4xx.
    return code;
  } finally {
    transport.close();
  }
}

describe('Redis Cluster', () => {
  const servers = new RedisServers();
  let cluster: TestRedisCluster;
  const watch = new ServerErrorWatch();

  beforeAll(async () => {
    cluster = await startRedisCluster(servers);
    watch.install();
  }, 60_000);

  afterAll(async () => {
    watch.uninstall();
    await servers.stopAll();
  });

  describe('key layout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApi({ REDIS_URL: cluster.url });
    });
    afterAll(() => t?.close());

    it('runs sign-up, sign-in, sessions, throttles and password reset without crossing slots, spreading keys over the masters', async () => {
      const user = await signUpUser(t.baseUrl);
      const laptop = await loginUser(t.baseUrl, user.email, user.password);
      // Login throttle: a failure is counted, a success clears the (account, IP) window.
      const wrong = await fetch(`${t.baseUrl}/api/account/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, password: 'wrong password!!' }),
      });
      expect(wrong.status).toBe(401);
      // Sessions: list, sign out one, sign out the others.
      const list = async (cookie: string) =>
        ((await (await fetch(`${t.baseUrl}/api/account/sessions`, { headers: { cookie } })).json()) as { sessions: { id: string; current: boolean }[] }).sessions;
      const sessions = await list(laptop.cookie);
      expect(sessions).toHaveLength(2);
      const other = sessions.find((s) => !s.current)!;
      expect((await fetch(`${t.baseUrl}/api/account/sessions/${other.id}`, { method: 'DELETE', headers: { cookie: laptop.cookie } })).status).toBe(204);
      const phone = await loginUser(t.baseUrl, user.email, user.password);
      expect((await fetch(`${t.baseUrl}/api/account/sessions/sign-out-others`, { method: 'POST', headers: { cookie: laptop.cookie } })).status).toBe(204);
      expect((await fetch(`${t.baseUrl}/api/account/me`, { headers: { cookie: phone.cookie } })).status).toBe(401);
      // OAuth: authorize, code exchange (single-use script), /api/user.
      const app = await createClientApp(t.baseUrl);
      const { code, verifier } = await codeFor(t.baseUrl, app, laptop);
      const token = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
      expect(token.res.status).toBe(200);
      const me = await currentUser(t.baseUrl, token.body.access_token);
      expect(me.res.status).toBe(200);
      expect((await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier })).res.status).toBe(400);
      // Session count: counted in Redis (not by the MySQL fallback), seen pending, flushed (the worker's steps) on the cluster.
      const connectionId = me.body.id;
      const counts = t.app.get(SessionCounts);
      expect((await counts.pending([connectionId])).get(connectionId)?.sessions).toBe(1);
      expect(await counts.flushAll()).toBe(1);
      expect((await counts.pending([connectionId])).size).toBe(0);
      const [counted] = await t.app.get(DataSource).query<Row[]>('SELECT sessions FROM connections WHERE id = ?', [connectionId]);
      expect(Number(counted.sessions)).toBe(1);
      // Password reset: the link (mailed through the dev mailbox list), spent once.
      const forgot = await fetch(`${t.baseUrl}/api/account/password/forgot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email }),
      });
      expect(forgot.status).toBe(202);
      let link = '';
      await eventually(async () => {
        link = /password\/reset\?token=([A-Za-z0-9_-]+)/.exec((await mailsTo(t.baseUrl, user.email)).join(''))?.[1] ?? '';
        return link !== '';
      }, 'the reset mail');
      const reset = (password: string) =>
        fetch(`${t.baseUrl}/api/account/password/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: link, password }) });
      expect((await reset('a brand new passphrase')).status).toBe(204);
      expect((await reset('another new passphrase')).status).toBe(400);
      expect((await loginUser(t.baseUrl, user.email, 'a brand new passphrase')).globalId).toBe(user.globalId);

      // No 5xx at all, and this run's keys sit on at least two masters.
      expect(watch.wrong).toEqual([]);
      expect(watch.unavailable).toEqual([]);
      const holding = (await cluster.masters()).filter((m) => m.keys > 0);
      expect(holding.length).toBeGreaterThanOrEqual(2);
    }, 60_000);
  });

  describe('failover drill: 2 API + 2 worker processes and the relay, the busiest master killed', () => {
    let d: Deployment;
    let sink: Sink;
    let dns: TestDns;
    let relay: RelayProcess;
    beforeAll(async () => {
      sink = await startSink();
      dns = await startDns();
      publishSender(dns, 'app.example');
      d = await startDeployment(cluster.url, { SMTP_URL: sink.url, DNS_SERVERS: dns.server, RELAY_BACKOFF_MS: '300' });
      await registerSenders(d.apis[0].baseUrl, d.app.developerCookie, d.app.id, dns, { senderDomains: ['app.example'] });
      relay = await startRelay(d.env);
    }, 240_000);
    afterAll(async () => {
      await relay?.stop('SIGKILL');
      await d?.stop();
      await sink?.close();
      await dns?.close();
    });

    /** A connected user with a confirmed address: its relay address. */
    async function relayRecipient(): Promise<{ relay: string; email: string }> {
      const user = await signUpUser(d.apis[0].baseUrl);
      await codeFor(d.apis[1].baseUrl, d.app, user);
      const [row] = await d.db.query<Row[]>('SELECT c.user_id, c.relay_local FROM connections c JOIN users u ON u.id = c.user_id WHERE u.global_id = ? AND c.application_id = ?', [
        user.globalId,
        d.app.id,
      ]);
      await d.db.query('UPDATE user_emails SET confirmed_at = UTC_TIMESTAMP(3) WHERE user_id = ? AND confirmed_at IS NULL', [row.user_id]);
      return { relay: `${String(row.relay_local)}@loginsign.com`, email: user.email.toLowerCase() };
    }

    const copiesOf = (subject: string) => sink.received.filter((m) => m.raw.toString('latin1').includes(subject));

    it('answers 503 at most, recovers by itself within 30 s and loses no acknowledged sign-in, webhook or relay mail', async () => {
      // Relay mail before the kill: accepted at once and forwarded.
      const early = await relayRecipient();
      expect(await sendThroughRelay(relay.port, early.relay, 'drill-before-kill')).toBe(250);
      await sink.waitFor(() => copiesOf('drill-before-kill').length > 0);

      const before = await cluster.masters();
      expect(before.filter((m) => m.keys > 0).length).toBeGreaterThanOrEqual(2);
      let victimPort = 0;
      const result = await failoverDrill(
        d,
        watch,
        async () => {
          const busiest = (await cluster.masters()).sort((a, b) => b.keys - a.keys)[0].node;
          victimPort = busiest.port;
          await busiest.kill('SIGKILL');
        },
        // A replica took over.
        () => cluster.healthy(),
      );
      expect(victimPort).toBeGreaterThan(0);
      // Readiness is back on both APIs.
      for (const api of d.apis) await eventually(async () => (await fetch(`${api.baseUrl}/health/ready`)).status === 200, 'readiness');

      // Relay mail after recovery: a sending server retries temporary (4xx) answers; a 5xx would bounce it.
      const late = await relayRecipient();
      const answers: number[] = [];
      await eventually(async () => {
        answers.push(await sendThroughRelay(relay.port, late.relay, 'drill-after-recovery'));
        return answers[answers.length - 1] === 250;
      }, 'the relay to accept mail after the failover');
      expect(answers.filter((code) => code >= 500)).toEqual([]);
      await sink.waitFor(() => copiesOf('drill-after-recovery').length > 0);
      // Exactly once each, to the user's own address; the relay never restarted.
      await eventually(async () => {
        const [{ open }] = await d.db.query<Row[]>(`SELECT COUNT(*) AS open FROM relay_messages WHERE status <> 'delivered'`);
        return Number(open) === 0;
      }, 'every relay message finished');
      expect(copiesOf('drill-before-kill').map((m) => m.to)).toEqual([[early.email]]);
      expect(copiesOf('drill-after-recovery').map((m) => m.to)).toEqual([[late.email]]);
      expect(relay.child.exitCode).toBeNull();
      console.log(
        `cluster drill: ${result.failedAttempts} sign-ins failed cleanly during the switch; sign-ins succeeded again ${result.recoverySeconds.toFixed(1)} s after the kill`,
      );
    }, 180_000);
  });
});
