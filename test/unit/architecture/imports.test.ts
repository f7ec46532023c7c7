import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scannedRoots = ['runtime', 'firstboot'];
const daemonFolders = ['runtime/viewer', 'runtime/filter', 'runtime/fetch', 'runtime/directory'];
// What the command (cli.ts) and `mailfilter start` (local/) start: the one file of a daemon's folder others may import.
const daemonEntries = ['runtime/viewer/server.ts', 'runtime/filter/daemon.ts', 'runtime/fetch/daemon.ts', 'runtime/directory/sync.ts'];

// Imports that cross a rule on purpose, by "from -> to"; each with the reason it stays.
const allowed = new Map<string, string>([
  [
    'runtime/cli.ts -> firstboot/configure.ts',
    '`mailfilter configure` starts the wizard; cli.ts is the top of the graph, imported by nothing, and loads it on demand',
  ],
  [
    'runtime/viewer/routes/admin.tsx -> runtime/fetch/set-aside.ts',
    "the console shows the fetcher's set-aside messages too, read the same way as `mailfilter status` does",
  ],
  [
    'runtime/status/report.ts -> runtime/fetch/set-aside.ts',
    "`mailfilter status` shows the fetcher's set-aside messages; set-aside.ts is the one reader of the fetcher's state and needs no running fetcher",
  ],
]);

function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(repoRoot, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

// Every relative specifier in import, export-from and dynamic import() forms, type-only ones too.
function relativeSpecifiers(text: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  return [...text.matchAll(pattern)].map((match) => match[1]!);
}

function resolveImport(fromFile: string, specifier: string): string {
  const target = relative(repoRoot, resolve(repoRoot, dirname(fromFile), specifier))
    .split(sep)
    .join('/');
  for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target]) {
    if (existsSync(join(repoRoot, candidate))) return candidate;
  }
  return target;
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of scannedRoots.flatMap(sourceFiles)) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    graph.set(
      file,
      relativeSpecifiers(text).map((specifier) => resolveImport(file, specifier)),
    );
  }
  return graph;
}

function daemonOf(file: string): string | undefined {
  return daemonFolders.find((folder) => file.startsWith(`${folder}/`));
}

// Tarjan's strongly connected components: each component of more than one file is a cycle.
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      const selfImport = graph.get(file)?.includes(file) ?? false;
      if (component.length > 1 || selfImport) components.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components;
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));

test('every relative import names a file that exists', () => {
  const missing = edges.filter(({ to }) => !existsSync(join(repoRoot, to))).map(({ from, to }) => `${from} -> ${to}`);
  assert.deepEqual(missing, []);
});

test('the runtime and the wizard import one another without a cycle', () => {
  assert.deepEqual(cycles(graph), []);
});

test('nothing in runtime/ imports from firstboot/ or test/', () => {
  const upward = edges
    .filter(({ from, to }) => from.startsWith('runtime/') && (to.startsWith('firstboot/') || to.startsWith('test/')))
    .map(({ from, to }) => `${from} -> ${to}`)
    .filter((edge) => !allowed.has(edge));
  assert.deepEqual(upward, []);
});

test("no daemon's folder imports from another daemon's folder; shared code lives in shared folders", () => {
  const crossing = edges
    .filter(({ from, to }) => {
      const target = daemonOf(to);
      return target !== undefined && daemonOf(from) !== target && daemonOf(from) !== undefined;
    })
    .map(({ from, to }) => `${from} -> ${to}`)
    .filter((edge) => !allowed.has(edge));
  assert.deepEqual(crossing, []);
});

test("code outside a daemon's folder reaches it only through the daemon's entry file", () => {
  const reaching = edges
    .filter(({ from, to }) => {
      const target = daemonOf(to);
      return target !== undefined && daemonOf(from) === undefined && !daemonEntries.includes(to);
    })
    .map(({ from, to }) => `${from} -> ${to}`)
    .filter((edge) => !allowed.has(edge));
  assert.deepEqual(reaching, []);
});

test('every allowed exception is still in the code', () => {
  const present = new Set(edges.map(({ from, to }) => `${from} -> ${to}`));
  assert.deepEqual(
    [...allowed.keys()].filter((edge) => !present.has(edge)),
    [],
  );
});
