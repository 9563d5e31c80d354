import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layering rules of docs/architecture.md, checked on the source text:
 * libs never import apps; identity, developer, webhooks and connections never
 * import oauth; imports between libs have no cycle; SQL is written only in
 * repositories, migrations and the database lib's setup (tests excepted).
 */

const root = resolve(__dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const posix = (path: string) => relative(root, path).split(sep).join('/');

/** Every module specifier of a file: `from '...'`, `import '...'`, `import('...')`, `require('...')`. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** What a specifier of `file` names: a lib (`libs/<name>`), an app (`apps/<name>`), or null for a package. */
export function target(file: string, specifier: string): string | null {
  const alias = /^@app\/([a-z]+)/.exec(specifier);
  if (alias) return `libs/${alias[1]}`;
  if (!specifier.startsWith('.')) return null;
  const [top, name] = posix(resolve(dirname(file), specifier)).split('/');
  return top === 'libs' || top === 'apps' ? `${top}/${name}` : null;
}

/** The lib (`libs/<name>`) a file belongs to, or null for a file at the top of libs/. */
const libOf = (file: string): string | null => {
  const parts = posix(file).split('/');
  return parts.length > 2 ? `libs/${parts[1]}` : null;
};

/** A cycle in the graph (as the list of its nodes, first repeated last), or null. */
export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** Libs that sit below oauth and must not depend on it. */
const BELOW_OAUTH = ['libs/identity', 'libs/developer', 'libs/webhooks', 'libs/connections'];

/** Files that may hold SQL: repositories, migrations, and the database lib's setup. */
const SQL_ALLOWED = (path: string) =>
  path.endsWith('.repository.ts') || path.startsWith('libs/database/src/migrations/') || path === 'libs/database/src/options.ts' || path === 'libs/database/src/migrate.ts';
const SQL_CALL = /\.query\s*(<[^>]*>)?\s*\(|createQueryBuilder/;

describe('architecture', () => {
  const libFiles = tsFiles(join(root, 'libs'));
  // Tests may wire more modules than their lib imports (as the apps do), so only the libs' own code counts.
  const sources = new Map(libFiles.filter((file) => !file.endsWith('.spec.ts')).map((file) => [file, readFileSync(file, 'utf8')]));

  it('finds the libs and their imports', () => {
    expect(libFiles.length).toBeGreaterThan(50);
    expect(importsOf(`import { A } from '@app/common';\nimport type { B } from '../x';\nconst c = require("./c");\nawait import('./d');\nimport './e';`)).toEqual([
      '@app/common',
      '../x',
      './c',
      './d',
      './e',
    ]);
    expect(target(join(root, 'libs/oauth/src/a.ts'), '../../../apps/api/src/main')).toBe('apps/api');
    expect(target(join(root, 'libs/oauth/src/a.ts'), '@app/connections')).toBe('libs/connections');
    expect(target(join(root, 'libs/oauth/src/a.ts'), 'typeorm')).toBeNull();
    expect(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set(['c'])],
          ['c', new Set(['a'])],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
    ).toBeNull();
  });

  it('libs never import apps, and the libs below oauth never import oauth', () => {
    const wrong: string[] = [];
    for (const [file, source] of sources) {
      const lib = libOf(file);
      for (const specifier of importsOf(source)) {
        const to = target(file, specifier);
        if (to?.startsWith('apps/')) wrong.push(`${posix(file)} imports ${specifier}`);
        if (to === 'libs/oauth' && lib && BELOW_OAUTH.includes(lib)) wrong.push(`${posix(file)} imports ${specifier}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the imports between libs have no cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const [file, source] of sources) {
      const lib = libOf(file);
      if (!lib) continue;
      const edges = graph.get(lib) ?? new Set<string>();
      graph.set(lib, edges);
      for (const specifier of importsOf(source)) {
        const to = target(file, specifier);
        if (to?.startsWith('libs/') && to !== lib) edges.add(to);
      }
    }
    expect(findCycle(graph)).toBeNull();
  });

  it('SQL is written only in repositories, migrations and the database setup', () => {
    const files = [...libFiles, ...tsFiles(join(root, 'apps'))].filter((file) => !file.endsWith('.spec.ts'));
    const wrong = files.map(posix).filter((path) => !SQL_ALLOWED(path) && SQL_CALL.test(readFileSync(join(root, path), 'utf8')));
    expect(wrong).toEqual([]);
  });

  it('creates no trigger after migration 1764375000000 dropped the last ones (TiDB and PlanetScale refuse triggers)', () => {
    const migrations = join(root, 'libs/database/src/migrations');
    const later = readdirSync(migrations).filter((name) => Number(name.split('-')[0]) > 1764375000000);
    const creating = [...later.map((name) => join(migrations, name)), ...[...sources.keys()].filter((file) => !file.startsWith(migrations))].filter((file) =>
      /CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?TRIGGER/i.test(readFileSync(file, 'utf8')),
    );
    expect(creating.map(posix)).toEqual([]);
    expect(readFileSync(join(migrations, '1764330000000-AuthzVersion.ts'), 'utf8')).toMatch(/CREATE TRIGGER/); // the pattern finds one
  });
});
