// DATABASE_REPLICA_URLS on a real MariaDB primary (binary log on) and its
// replica, both started here on free ports in a temp dir: the developer's
// user list reads the replica, sign-up, login and sign-in read the primary
// (so a stopped replica shows a stale list but never breaks a login), and a
// replica that is down leaves the list to the primary.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, createConnection } from 'mysql2/promise';
import { loginUser, signUpUser } from '../support/accounts';
import { createApplication, developerRequest, readJson, signUpDeveloper, TestDeveloper, UsersPage } from '../support/developer';
import { eventually } from '../support/eventually';
import { startApi, TestApp } from '../support/harness';
import { freePort } from '../support/api-process';
import { ClientApp, codeFor, currentUser, exchangeCode } from '../support/oauth';

const REDIRECT_URI = 'https://client.example/cb';

interface Server {
  port: number;
  process: ChildProcess;
  exited: Promise<void>;
}

describe('read replica (DATABASE_REPLICA_URLS)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-replica-'));
  let primary: Server;
  let replica: Server;
  let replicaSql: Connection | undefined;
  let t: TestApp;
  let developer: TestDeveloper;
  let app: ClientApp;

  /** A server on a free port; its datadir is a copy of the one mariadb-install-db made. */
  async function startMariadb(name: string, serverId: number, extra: string[]): Promise<Server> {
    await promisify(execFile)('cp', ['-a', join(dir, 'installed'), join(dir, name)]);
    const port = await freePort();
    const child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${join(dir, name)}`,
        `--socket=${join(dir, `${name}.sock`)}`,
        `--pid-file=${join(dir, `${name}.pid`)}`,
        `--log-error=${join(dir, `${name}.err`)}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--server-id=${serverId}`,
        '--innodb-buffer-pool-size=32M',
        ...extra,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const answers = () =>
      createConnection({ host: '127.0.0.1', port, user: 'root' }).then(
        (c) => c.end().then(() => true),
        () => false,
      );
    await eventually(answers, `${name} mariadbd to accept connections`);
    return { port, process: child, exited };
  }

  const stop = async (server: Server | undefined, signal: NodeJS.Signals = 'SIGTERM') => {
    if (!server || server.process.exitCode !== null || server.process.signalCode !== null) return;
    process.kill(server.process.pid!, signal);
    await server.exited;
  };

  beforeAll(async () => {
    await promisify(execFile)('mariadb-install-db', ['--no-defaults', '--user=root', '--auth-root-authentication-method=normal', `--datadir=${join(dir, 'installed')}`]);
    [primary, replica] = await Promise.all([
      startMariadb('primary', 1, [`--log-bin=${join(dir, 'primary-bin')}`, '--binlog-format=ROW']),
      startMariadb('replica', 2, ['--read-only']),
    ]);
    replicaSql = await createConnection({ host: '127.0.0.1', port: replica.port, user: 'root' });
    await replicaSql.query(`CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ?, MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos`, [primary.port]);
    await replicaSql.query('START SLAVE');

    const database = `ls_replica_${process.pid}`;
    t = await startApi({
      DATABASE_URL: `mysql://root@127.0.0.1:${primary.port}/${database}`,
      DATABASE_REPLICA_URLS: `mysql://root@127.0.0.1:${replica.port}/${database}`,
    });
    developer = await signUpDeveloper(t.baseUrl);
    const created = await createApplication(t.baseUrl, developer.cookie, { redirectUris: [REDIRECT_URI] });
    app = { id: created.id, clientId: created.clientId, clientSecret: created.clientSecret, redirectUri: REDIRECT_URI, developerCookie: developer.cookie };
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await replicaSql?.end();
    await stop(replica);
    await stop(primary);
    rmSync(dir, { recursive: true, force: true });
  });

  const list = async () => {
    const res = await developerRequest(t.baseUrl, developer.cookie, 'GET', `/api/developer/applications/${app.id}/users`);
    expect(res.status).toBe(200);
    return readJson<UsersPage>(res);
  };
  const listed = async () => (await list()).users.map((u) => u.globalId).sort();

  /** Consent, code, token and /api/user for the user: the whole sign-in of a client app. */
  async function signIn(user?: Awaited<ReturnType<typeof signUpUser>>) {
    const { code, verifier, user: who } = await codeFor(t.baseUrl, app, user);
    const { res, body } = await exchangeCode(t.baseUrl, app, { code, code_verifier: verifier });
    expect(res.status).toBe(200);
    const me = await currentUser(t.baseUrl, body.access_token);
    expect(me.res.status).toBe(200);
    return who;
  }

  it('lists from the replica; sign-up, login and sign-in of a user the replica has not seen work', async () => {
    const first = await signIn();
    await eventually(async () => (await list()).total === 1, 'the replica to have the first user');
    expect(await listed()).toEqual([first.globalId]);

    // The replica stops applying the primary's changes: everything written from now on exists only on the primary.
    await replicaSql!.query('STOP SLAVE');
    const lagging = await signUpUser(t.baseUrl);
    const again = await loginUser(t.baseUrl, lagging.email, lagging.password);
    await signIn(again);

    const stale = await list();
    expect(stale.total).toBe(1);
    expect(stale.users.map((u) => u.globalId)).toEqual([first.globalId]);

    await replicaSql!.query('START SLAVE');
    await eventually(async () => (await list()).total === 2, 'the replica to catch up');
    expect(await listed()).toEqual([first.globalId, lagging.globalId].sort());
  });

  it('a replica that is down leaves the list to the primary', async () => {
    await replicaSql!.end();
    replicaSql = undefined;
    await stop(replica, 'SIGKILL');
    const third = await signIn();
    const page = await list();
    expect(page.total).toBe(3);
    expect(page.users.map((u) => u.globalId)).toContain(third.globalId);
  });
});
