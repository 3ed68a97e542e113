#!/usr/bin/env node
// Bundles the web process's entry into one file at `npm run build`, so that a web process
// (every start, restart and recycle) reads one file instead of resolving and loading a few
// hundred modules: Node 20 has no compile cache, and module loading was half of a start.
//
// The bundle is a CommonJS function body, not an ES module: its loader (bundle-loader.ts, built
// here into the CommonJS file that is the web process's entry) compiles it with vm.Script,
// which takes a V8 code cache (Node 20 has none for modules), and hands it `require`,
// `import()` and `import.meta.url`. Its first line names its content hash, the key of that
// cache (V8 itself checks only the source's length). A start that loads no ES module never
// starts Node's ES module loader: that and the 17 files `appinfra/web` shares were 20 ms of a
// start on this machine.
//
// What stays outside the bundle:
// - modules the web process imports lazily (the GraphQL adapter, the Redis link), which stay
//   lazy. They import the package's files themselves, so a web process that loads one holds
//   a second copy of those files (errors, the request contract): the few classes whose
//   instances cross between copies answer `instanceof` by a mark (src/contract/same-class.ts);
// - packages that read files of their own at run time or load native code (swagger-ui's
//   static assets, msgpackr's optional native extension), the lazily imported GraphQL
//   stack, which only GraphQL routes pay for, and the OpenAPI plugins, loaded on the first
//   /docs or /openapi.json request.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `node scripts/bundle-web.mjs [distDir]`: the package test bundles into a temporary install.
const dist = resolve(process.argv[2] ?? resolve(root, 'dist'));
const ENTRY = resolve(dist, 'runtime/web/entry.js');
const OUT = resolve(dist, 'web-entry.bundle.cjs');
const LOADER = resolve(dist, 'runtime/web/bundle-loader.js');
const LOADER_OUT = resolve(dist, 'runtime/web/bundle-loader.cjs');
// pino is bundled: its ~30 files went through the CommonJS loader at every start. Only its
// transports start workers from files beside its own (thread-stream's); the web process's logger
// writes to a stream and never starts one.
const EXTERNAL_PACKAGES = ['mercurius', 'graphql', '@fastify/swagger', '@fastify/swagger-ui', 'msgpackr', 'thread-stream'];

const lazyStaysFile = {
  name: 'lazy-stays-file',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      // A lazily imported module stays a file of its own: inside the bundle, its own imports
      // (mercurius, graphql) would become static imports of the bundle and load at every start.
      if (args.kind !== 'dynamic-import') return undefined;
      return { path: `./${relative(dirname(OUT), resolve(args.resolveDir, args.path))}`, external: true };
    });
  },
};

// Modules a web process loaded at every start only to hold a reference it uses for options it
// rarely has: Fastify's server module takes node:http2 and node:https (with node:tls) for HTTP/2
// and HTTPS servers, pino takes thread-stream for transports. Together about 15 ms of a start on
// this machine. Each becomes a stand-in that loads the real module on first use of any of its
// properties (or, for thread-stream's class, on construction).
const LAZY = { 'node:http2': 'object', 'node:https': 'object', 'thread-stream': 'class' };
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(LAZY).join('|')})$`) }, (args) =>
      args.namespace === 'lazy' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      const load = `let real; const load = () => (real ??= require(${JSON.stringify(args.path)}));`;
      const traps = 'get: (_, key) => load()[key], has: (_, key) => key in load()';
      const target = LAZY[args.path] === 'class' ? 'function () {}' : '{}';
      const construct = LAZY[args.path] === 'class' ? ', construct: (_, argv, newTarget) => Reflect.construct(load(), argv, newTarget === stand ? load() : newTarget)' : '';
      return { contents: `${load}\nconst stand = new Proxy(${target}, { ${traps}${construct} });\nmodule.exports = stand;\n`, loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: [ENTRY],
  outfile: OUT,
  write: false,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: EXTERNAL_PACKAGES,
  plugins: [lazyStaysFile, lazyModules],
  // Fewer bytes to read and compile at every start (1.9 -> 1.2 MB). Names stay: pino logs an
  // error's class by its constructor's name, and stack traces name their frames.
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'import.meta.url': '__appinfraImportMetaUrl' },
  legalComments: 'none',
  logLevel: 'warning',
});
// A script compiled by vm.Script cannot call Node's import() without an experimental flag: the
// loader passes its own. Only real calls are rewritten (not JSDoc types), and each must be one
// the package makes (a relative module, a package, or a URL it computed): anything else fails
// the build rather than change a string in a dependency.
const calls = [];
const code = result.outputFiles[0].text
  .split('\n')
  .map((line) => (/^\s*(\*|\/\/)/.test(line) ? line : line.replace(/(?<![\w$.])import\(([^)]{0,80})/g, (_, arg) => (calls.push(arg), `__appinfraImport(${arg}`))))
  .join('\n');
const odd = calls.filter((arg) => !/^("\.{1,2}\/|"@?[a-z]|[\w$]+\()/.test(arg));
if (calls.length === 0 || odd.length > 0) throw new Error(`bundle-web: unexpected dynamic imports: ${JSON.stringify(odd.length ? odd : calls)}`);
// esbuild escapes every non-ASCII character (its default charset): the loader reads the file as latin1.
if (/[^\p{ASCII}]/u.test(code)) throw new Error('bundle-web: the bundle holds a non-ASCII character');
const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
writeFileSync(OUT, `// appinfra-web-bundle ${hash}\n${code}`);
// The previous layout, and the code caches of earlier bundles (their hash is in their name).
rmSync(resolve(dist, 'web-entry.bundle.js'), { force: true });
for (const f of readdirSync(dist)) if (f.includes('.v8cache')) rmSync(resolve(dist, f), { force: true });

// The web process's entry: the loader, as CommonJS (an ES module entry starts Node's ES module
// loader, ~10 ms). It keeps its place beside the ES module it is built from, so the paths it
// computes from its own URL are the same.
await build({
  entryPoints: [LOADER],
  outfile: LOADER_OUT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: { 'import.meta.url': '__appinfraLoaderUrl' },
  banner: { js: "const __appinfraLoaderUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});
