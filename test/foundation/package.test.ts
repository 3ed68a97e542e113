import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { guardLeaks, waitFor } from '../helpers.js';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const dir = guardLeaks({ tmp: 'appinfra-package-' });

test('the built package is importable as `appinfra` from plain node (no TypeScript loader)', { timeout: 180000 }, async () => {
  // Lay out node_modules/appinfra as npm would install it: package.json + freshly built dist.
  const pkg = join(dir, 'node_modules', 'appinfra');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  // The same compiler settings as `npm run build`, into the temporary package.
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', join(pkg, 'dist'), '--sourceMap', 'false']);
  assert.ok(existsSync(join(pkg, 'dist', 'index.js')));
  assert.ok(existsSync(join(pkg, 'dist', 'index.d.ts')), 'types are emitted for the exports map');
  await run(process.execPath, [join(root, 'scripts/bundle-web.mjs'), join(pkg, 'dist')]);
  assert.ok(existsSync(join(pkg, 'dist', 'web-entry.bundle.cjs')), 'the web process entry is bundled');
  // A route module throws the package's own error class: the bundled web process must map it
  // by class (status, code, message), so the bundle and appinfra/web share one copy of it.
  writeFileSync(join(dir, 'teapot.mjs'), `
    import { EngineError } from 'appinfra/web';
    export default async function (app) {
      app.get('/teapot', async () => { throw new EngineError(503, 'brewing', 'TEA_BREWING'); });
    }
  `);

  const script = `
    import { ServerBuilder, Server, ApiConfig, UvicornConfig, IPCConfig, Queue } from 'appinfra';
    const server = new ServerBuilder('dist').withPort(0).routes.withRoute('/x', async () => ({ from: 'dist' })).done().build();
    if (!(server instanceof Server)) throw new Error('build() did not return a Server');
    const { url } = await server.listen();
    const body = await (await fetch(url + '/x')).json();
    await server.stop(1);
    // Subprocess mode: the web process runs the built entry under plain node too.
    const sub = new ServerBuilder('dist-sub').withPort(0).routes.withForward('/up', { methods: ['POST'], handler: 'up' })
      .fromModule(new URL('./teapot.mjs', 'file://' + process.cwd() + '/').href).done()
      .subprocess.withIpc(new Queue(), new Queue()).done().build();
    sub.engine.handle('up', (req) => ({ up: String(req.body.s).toUpperCase(), engine: process.pid }));
    const child = await sub.startSubprocess();
    const up = await (await fetch(sub.address.url + '/up', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"s":"dist"}' })).json();
    const tea = await fetch(sub.address.url + '/teapot');
    const teaBody = await tea.json();
    await sub.stop(2);
    console.log(JSON.stringify({
      body,
      sub: { up: up.up, engineIsMain: up.engine === process.pid, webIsChild: child.pid !== process.pid, bundled: child.spawnargs.some((a) => a.endsWith('bundle-loader.cjs')) },
      tea: { status: tea.status, code: teaBody.code, message: teaBody.message },
      port: new ApiConfig().port,
      workers: new UvicornConfig().workers,
      maxPending: new IPCConfig().maxPending,
    }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), {
    body: { from: 'dist' },
    sub: { up: 'DIST', engineIsMain: true, webIsChild: true, bundled: true },
    tea: { status: 503, code: 'TEA_BREWING', message: 'brewing' },
    port: 8000,
    workers: 1,
    maxPending: 100,
  });
  // The route-module entry: the channel and the SSE reply, without the builders.
  const web = await run(process.execPath, ['--input-type=module', '-e', "const w = await import('appinfra/web'); console.log(typeof w.replySse, typeof w.IPCChannel, 'ServerBuilder' in w)"], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(web.stdout.trim(), 'function function false');
  // The package's bin, as npm links it: plain node on dist/cli.js.
  const routes = await run(process.execPath, [join(pkg, 'dist', 'cli.js'), 'routes', join(root, 'examples/config/app.yaml')], { env: { ...process.env, NODE_OPTIONS: '' } });
  assert.match(routes.stdout, /^METHODS\s+PATH\s+KIND/m);
  assert.match(routes.stdout, /POST\s+\/v1\/echo/);
  await codeCacheIsUsed(join(pkg, 'dist'));
});

/**
 * The bundle's V8 code cache: written by the first web process, taken by the next ones, a
 * bad one refused (the process still serves) and replaced, none with APPINFRA_CODE_CACHE_DIR=off.
 */
async function codeCacheIsUsed(dist: string): Promise<void> {
  writeFileSync(join(dir, 'cache.mjs'), `
    import { ServerBuilder, Queue } from 'appinfra';
    const sub = new ServerBuilder('cache').withPort(0).routes.withForward('/up', { methods: ['POST'], handler: 'up' }).done()
      .subprocess.withIpc(new Queue(), new Queue()).done().build();
    sub.engine.handle('up', (req) => ({ up: String(req.body.s).toUpperCase() }));
    const started = new Promise((resolve) => sub.once('started', resolve));
    await sub.listen();
    const { codeCache } = await started;
    const { up } = await (await fetch(sub.address.url + '/up', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"s":"cached"}' })).json();
    await sub.stop(2);
    console.log(JSON.stringify({ codeCache, up }));
  `);
  const start = async (env: Record<string, string> = {}): Promise<unknown> => {
    const { stdout } = await run(process.execPath, [join(dir, 'cache.mjs')], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  };
  const caches = (d: string): string[] => (existsSync(d) ? readdirSync(d).filter((f) => f.includes('.v8cache')) : []);
  // The subprocess server above was the first web process of this build: it wrote the cache.
  await waitFor(() => caches(dist).length === 1, 10_000, 'the first web process writes the code cache');
  const [file] = caches(dist);
  assert.match(file!, new RegExp(`^web-entry\\.bundle\\.[0-9a-f]{16}\\.${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8cache$`));
  assert.deepEqual(await start(), { codeCache: 'accepted', up: 'CACHED' });

  writeFileSync(join(dist, file!), 'not a code cache');
  assert.deepEqual(await start(), { codeCache: 'rejected', up: 'CACHED' });
  await waitFor(() => readFileSync(join(dist, file!)).length > 1000, 10_000, 'a refused cache is written again');
  assert.deepEqual(await start(), { codeCache: 'accepted', up: 'CACHED' });

  // A directory of its own, made when first written.
  const own = join(dir, 'code-cache');
  assert.deepEqual(await start({ APPINFRA_CODE_CACHE_DIR: own }), { codeCache: 'absent', up: 'CACHED' });
  await waitFor(() => caches(own).length === 1, 10_000, 'the cache is written to APPINFRA_CODE_CACHE_DIR');
  assert.deepEqual(await start({ APPINFRA_CODE_CACHE_DIR: own }), { codeCache: 'accepted', up: 'CACHED' });
  assert.deepEqual(await start({ APPINFRA_CODE_CACHE_DIR: 'off' }), { codeCache: 'off', up: 'CACHED' });
  assert.deepEqual(caches(dist), [file], 'no temporary file is left');
}
