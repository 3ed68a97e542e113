#!/usr/bin/env node
// Bundles the web process's entry into one file at `npm run build`, so that a web process
// (every start, restart and recycle) reads one file instead of resolving and loading a few
// hundred modules: Node 20 has no compile cache, and module loading was half of a start.
//
// Two kinds of module stay outside the bundle:
// - modules the web process imports lazily (the GraphQL adapter), which stay lazy;
// - the package's own modules that route modules share through `appinfra/web` (errors,
//   the channel, replySse): a second copy inside the bundle would make `instanceof` fail
//   between an error a route module throws and the one the web process maps to a status;
// - packages that read files of their own at run time or load native code (swagger-ui's
//   static assets, msgpackr's optional native extension), the lazily imported GraphQL
//   stack, which only GraphQL routes pay for, and the OpenAPI plugins, loaded on the first
//   /docs or /openapi.json request.
import { build } from 'esbuild';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `node scripts/bundle-web.mjs [distDir]`: the package test bundles into a temporary install.
const dist = resolve(process.argv[2] ?? resolve(root, 'dist'));
const ENTRY = resolve(dist, 'runtime/web/entry.js');
const OUT = resolve(dist, 'web-entry.bundle.js');
const PUBLIC_WEB = resolve(dist, 'web.js');
const EXTERNAL_PACKAGES = ['mercurius', 'graphql', '@fastify/swagger', '@fastify/swagger-ui', 'msgpackr', 'pino', 'thread-stream'];

/** The package's own files that `appinfra/web` loads: they must exist once per process. */
async function sharedModules() {
  const r = await build({ absWorkingDir: root, entryPoints: [PUBLIC_WEB], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, packages: 'external', outfile: '/dev/null', logLevel: 'error' });
  return new Set(Object.keys(r.metafile.inputs).map((f) => resolve(root, f)));
}

const shared = await sharedModules();
const keepShared = {
  name: 'keep-shared',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      // A lazily imported module stays a file of its own: inside the bundle, its own imports
      // (mercurius, graphql) would become static imports of the bundle and load at every start.
      if (!shared.has(target) && args.kind !== 'dynamic-import') return undefined;
      // Point the bundle (which lives in dist/) at the very file route modules load.
      return { path: `./${relative(dirname(OUT), target)}`, external: true };
    });
  },
};

await build({
  entryPoints: [ENTRY],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: EXTERNAL_PACKAGES,
  plugins: [keepShared],
  // CommonJS packages inside an ESM bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __appinfraCreateRequire } from 'node:module'; const require = __appinfraCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
