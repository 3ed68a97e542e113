/**
 * The web process's entry when the package is built: runs the single-file bundle
 * (scripts/bundle-web.mjs) through vm.Script with a V8 code cache, because Node 20 has no
 * compile cache and compiling the bundle was a fifth of a start-up. The build turns this
 * module into CommonJS beside it (bundle-loader.cjs, the file the main process forks), so a
 * start that loads no ES module never starts Node's ES module loader.
 *
 * The cache is written by the first web process once it listens (not before: functions V8
 * compiled lazily while the app was built are then in it too), beside the bundle or in
 * APPINFRA_CODE_CACHE_DIR (`off`: no cache). Its name holds the bundle's content hash and the
 * Node version; V8 refuses one made by other flags or another V8, and the bundle then simply
 * compiles from source and a new cache is written.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { CODE_CACHE } from './code-cache.js';
import type { CodeCacheState } from '../../contract/control.js';

const bundle = fileURLToPath(new URL('../../web-entry.bundle.cjs', import.meta.url));
const bundleUrl = pathToFileURL(bundle).href;
// The build keeps the bundle ASCII (scripts/bundle-web.mjs checks): read as latin1, it is copied
// into a one-byte string without UTF-8 decoding (3 ms of a start here).
const source = readFileSync(bundle, 'latin1');
const hash = /^\/\/ appinfra-web-bundle (\w+)\n/.exec(source)?.[1];
const dir = process.env.APPINFRA_CODE_CACHE_DIR ?? dirname(bundle);
const cacheFile = hash && dir !== 'off' ? join(dir, `web-entry.bundle.${hash}.${process.version}-${process.arch}.v8cache`) : undefined;

let cachedData: Buffer | undefined;
try {
  if (cacheFile) cachedData = readFileSync(cacheFile);
} catch {
  // None yet: this process writes it.
}
// The same parameters as a CommonJS module's wrapper, plus what an ES module would have had.
const script = new Script(`(function (exports, require, module, __filename, __dirname, __appinfraImport, __appinfraImportMetaUrl) {${source}\n})`, {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
});
const state: CodeCacheState = !cacheFile ? 'off' : !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';

(globalThis as Record<symbol, unknown>)[CODE_CACHE] = {
  state,
  save(): void {
    if (!cacheFile || state === 'accepted') return;
    // Another web process may write the same file at the same time: each renames its own.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // A read-only install: start-ups compile from source, as without a cache.
      rmSync(tmp, { force: true });
    }
  },
};

const module = { exports: {} };
// Relative specifiers are the bundle's own (dist/); the rest resolve the same from here.
const importFromBundle = (specifier: string): Promise<unknown> => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(bundle), module, bundle, dirname(bundle), importFromBundle, bundleUrl);
