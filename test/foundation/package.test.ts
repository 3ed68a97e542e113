import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

let baseline: string[];
let dir: string;
before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-package-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

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

  const script = `
    import { ServerBuilder, Server, ApiConfig, UvicornConfig, IPCConfig } from 'appinfra';
    const server = new ServerBuilder('dist').withPort(0).routes.withRoute('/x', async () => ({ from: 'dist' })).done().build();
    if (!(server instanceof Server)) throw new Error('build() did not return a Server');
    const { url } = await server.listen();
    const body = await (await fetch(url + '/x')).json();
    await server.stop(1);
    console.log(JSON.stringify({
      body,
      port: new ApiConfig().port,
      workers: new UvicornConfig().workers,
      maxPending: new IPCConfig().maxPending,
    }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '' } });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), { body: { from: 'dist' }, port: 8000, workers: 1, maxPending: 100 });
});
