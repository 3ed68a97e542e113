/**
 * The process boundary as the import graph shows it: the engine's process (runtime/main)
 * reaches the web side (runtime/web) only through direct mode's one lazy import, the
 * contract depends on nothing, the CLI framework knows nothing of the server, and no two
 * rooms depend on each other both ways. Read from the source with TypeScript's parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../proc.js';

const SRC = join(ROOT, 'src');

export interface Edge {
  from: string;
  to: string;
  /** `static`: import/export ... from; `dynamic`: import('...'); `type`: erased at run time. */
  kind: 'static' | 'dynamic' | 'type';
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

function allTypeOnly(elements: readonly (ts.ImportSpecifier | ts.ExportSpecifier)[] | undefined): boolean {
  return elements !== undefined && elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

/** The relative imports of one file's text, each resolved to a path under src/ (`.js` written, `.ts` on disk). */
export function importsOf(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (spec: string, kind: Edge['kind']): void => {
    if (!spec.startsWith('.')) return;
    const to = relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    edges.push({ from: relative(SRC, file), to, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && allTypeOnly(clause.namedBindings.elements)));
      add(node.moduleSpecifier.text, typeOnly ? 'type' : 'static');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.isTypeOnly || (!!node.exportClause && ts.isNamedExports(node.exportClause) && allTypeOnly(node.exportClause.elements));
      add(node.moduleSpecifier.text, typeOnly ? 'type' : 'static');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, 'dynamic');
      else edges.push({ from: relative(SRC, file), to: '(computed)', kind: 'dynamic' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/**
 * The room a file under src/ belongs to: its top folder, with runtime/main and runtime/web
 * apart; a file at the top (index.ts, web.ts, cli.ts) is a room of its own.
 */
export function roomOf(path: string): string {
  const parts = path.split('/');
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (parts[0] === 'runtime' && (parts[1] === 'main' || parts[1] === 'web')) return `runtime/${parts[1]}`;
  return parts[0]!;
}

/** Room-level cycles: pairs of rooms that reach each other along run-time edges. */
export function roomCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.kind === 'type') continue;
    const a = roomOf(e.from);
    const b = roomOf(e.to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      for (const next of graph.get(stack.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  };
  const cycles: string[] = [];
  for (const a of graph.keys()) {
    for (const b of reach(a)) if (a < b && reach(b).has(a)) cycles.push(`${a} <-> ${b}`);
  }
  return cycles;
}

const EDGES = filesUnder(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
const runtime = (e: Edge): boolean => e.kind !== 'type';
const show = (list: readonly Edge[]): string => list.map((e) => `${e.from} -> ${e.to} (${e.kind})`).join('\n');

test('the parser sees the imports (static, dynamic and type-only) and every one resolves to a file', () => {
  assert.ok(EDGES.filter((e) => e.kind === 'static').length > 100, 'fewer static imports than the tree has');
  assert.ok(EDGES.some((e) => e.kind === 'dynamic'), 'no dynamic import found');
  assert.ok(EDGES.some((e) => e.kind === 'type'), 'no type-only import found');
  const dangling = EDGES.filter((e) => e.to !== '(computed)' && !existsSync(join(SRC, e.to)));
  assert.deepEqual(dangling, [], `imports of files that do not exist:\n${show(dangling)}`);
});

test('user code is imported in three places only: route modules and the tracing setup (web side), and the engine module (CLI)', () => {
  const computed = EDGES.filter((e) => e.to === '(computed)').map((e) => e.from);
  // bundle-loader.ts is the built web entry's import(): the bundle's lazy imports (those two
  // among them) go through it, so it is not a fourth place that chooses what to load.
  assert.deepEqual(computed.sort(), ['runtime/web/adapters/modules.ts', 'runtime/web/bundle-loader.ts', 'runtime/web/entry.ts', 'server/cli/app-engine.ts']);
});

test('runtime/main reaches runtime/web only through the one lazy import of direct mode', () => {
  const crossing = EDGES.filter((e) => runtime(e) && roomOf(e.from) === 'runtime/main' && roomOf(e.to) === 'runtime/web');
  assert.deepEqual(
    crossing.map((e) => `${e.from} -> ${e.to} (${e.kind})`),
    ['runtime/main/server.ts -> runtime/web/direct.ts (dynamic)'],
  );
});

test('contract/ imports nothing outside contract/ (type-only: the config data types it describes)', () => {
  const out = EDGES.filter((e) => roomOf(e.from) === 'contract' && roomOf(e.to) !== 'contract');
  assert.deepEqual(show(out.filter(runtime)), '', 'run-time imports out of contract/');
  const allowedTypes = new Set(['server/config/schemas.ts']);
  assert.deepEqual(show(out.filter((e) => !runtime(e) && !allowedTypes.has(e.to))), '', 'type-only imports out of contract/');
});

test('app/ (the generic CLI framework) imports nothing from server/ or runtime/', () => {
  const out = EDGES.filter((e) => roomOf(e.from) === 'app' && /^(server|runtime)(\/|$)/.test(roomOf(e.to)));
  assert.equal(show(out), '');
});

test('no two rooms depend on each other at run time', () => {
  assert.deepEqual(roomCycles(EDGES), []);
});

test('the cycle check finds a cycle between rooms, and ignores type-only edges and edges inside a room', () => {
  const e = (from: string, to: string, kind: Edge['kind'] = 'static'): Edge => ({ from, to, kind });
  assert.deepEqual(roomCycles([e('server/a.ts', 'runtime/main/b.ts'), e('runtime/main/b.ts', 'runtime/web/c.ts', 'dynamic'), e('runtime/web/c.ts', 'server/d.ts')]), ['runtime/main <-> runtime/web', 'runtime/main <-> server', 'runtime/web <-> server']);
  assert.deepEqual(roomCycles([e('server/a.ts', 'runtime/main/b.ts'), e('runtime/main/b.ts', 'server/d.ts', 'type'), e('server/x.ts', 'server/y.ts'), e('server/y.ts', 'server/x.ts')]), []);
});

test('the parser tells run-time imports from type-only ones', () => {
  const file = join(SRC, 'runtime/main/x.ts');
  const text = [
    "import { a } from '../web/a.js';",
    "import type { B } from '../web/b.js';",
    "import { type C, type D } from '../web/c.js';",
    "import { type E, f } from '../web/e.js';",
    "export { g } from '../web/g.js';",
    "export type { H } from '../web/h.js';",
    "type I = typeof import('../web/i.js');",
    "const j = () => import('../web/j.js');",
    "import 'fastify';",
  ].join('\n');
  assert.deepEqual(
    importsOf(file, text).map((e) => `${e.to} ${e.kind}`),
    ['runtime/web/a.ts static', 'runtime/web/b.ts type', 'runtime/web/c.ts type', 'runtime/web/e.ts static', 'runtime/web/g.ts static', 'runtime/web/h.ts type', 'runtime/web/i.ts type', 'runtime/web/j.ts dynamic'],
  );
});
