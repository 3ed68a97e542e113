/**
 * Lifecycle callbacks in both modes, mirroring the original's tests of the same names:
 * startup (with the IPC channel up), a failing startup (CallbackError naming it, no
 * restart), on_request / on_response, on_exception shaping the answer, shutdown and
 * lifespan on drain. Subprocess mode takes them from a module the web process imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, CallbackError, BuildError, EngineError, type Server } from '../../src/index.js';
import * as callbacks from './fixtures/lifecycle.js';
import { join } from 'node:path';
import { guardLeaks } from '../helpers.js';

const MODULE = new URL('./fixtures/lifecycle.ts', import.meta.url);
const servers: Server[] = [];
const tmp = guardLeaks({ tmp: 'appinfra-lifecycle-', cleanup: () => Promise.all(servers.map((s) => s.stop(1))) });

type Mode = 'direct' | 'subprocess';
type Stage = 'OnStartup' | 'OnShutdown' | 'Lifespan' | 'OnRequest' | 'OnResponse' | 'OnException';

/** The same callbacks, as functions (direct) or as the module's exports (subprocess). */
function build(mode: Mode, use: [Stage, keyof typeof callbacks][]): { server: Server; seen: unknown[] } {
  let b = new ServerBuilder(`lifecycle-${mode}`).withPort(0).routes.withForward('/echo', { handler: 'echo' }).withForward('/teapot', { handler: 'teapot' }).withForward('/bug', { handler: 'bug' }).done();
  for (const [stage, name] of use) {
    const method = `with${stage}` as const;
    b = mode === 'direct' ? b[method](callbacks[name] as (...a: any[]) => unknown) : b[method](MODULE, name);
  }
  if (mode === 'subprocess') b = b.subprocess.withIpc(new Queue(), new Queue()).withAutoRestart(true, 0.05, 3).done();
  const server = b.build();
  servers.push(server);
  const seen: unknown[] = [];
  server.engine
    .handle('echo', async () => ({ ok: true }))
    .handle('warm', async (req: { body: unknown }) => (seen.push(req.body), { warmed: 42 }))
    .handle('responded', async (req: { body: unknown }) => (seen.push(req.body), null))
    .handle('bye', async (req: { body: unknown }) => (seen.push(req.body), null))
    .handle('teapot', async () => {
      throw new EngineError(400, 'short and stout', 'TEAPOT');
    })
    .handle('bug', async () => {
      throw new EngineError(409, 'taken', 'TAKEN');
    });
  return { server, seen };
}

for (const mode of ['direct', 'subprocess'] as const) {
  test(`${mode}: test_startup_callback_uses_ipc: a startup callback submits to the engine and gets the answer`, async () => {
    const { server, seen } = build(mode, [['OnStartup', 'warmUp'], ['OnRequest', 'stampRequest']]);
    const { url } = await server.listen();
    assert.deepEqual(seen, [{ from: 'startup' }]);
    const res = await fetch(`${url}/echo`);
    assert.equal(res.headers.get('x-warm'), JSON.stringify({ warmed: 42 }), 'on_request ran and saw what startup got');
    await server.stop(1);
  });

  test(`${mode}: test_failing_startup_callback: the start stops with a CallbackError naming it, no restart`, async () => {
    const { server } = build(mode, [['OnStartup', 'failingStartup']]);
    const restarts: unknown[] = [];
    server.on('restart', (i) => restarts.push(i));
    await assert.rejects(server.listen(), (err: unknown) => {
      assert.ok(err instanceof CallbackError, String(err));
      assert.match(err.message, /^Startup callback "failingStartup" failed: the database is not reachable$/);
      assert.equal(err.code, 'APPINFRA_ERR_CALLBACK');
      return true;
    });
    assert.equal(server.isRunning, false);
    assert.deepEqual(restarts, []);
    assert.equal(server.processes.length, 0);
  });

  test(`${mode}: test_on_response_and_on_exception: every response is reported; on_exception shapes the answer`, async () => {
    const { server, seen } = build(mode, [['OnResponse', 'reportResponse'], ['OnException', 'shapeException']]);
    const { url } = await server.listen();
    const teapot = await fetch(`${url}/teapot`);
    assert.equal(teapot.status, 418);
    assert.deepEqual(await teapot.json(), { shaped: true, said: 'short and stout' });
    const other = await fetch(`${url}/bug`);
    assert.equal(other.status, 409, 'an error it leaves alone gets the default answer');
    assert.equal(((await other.json()) as { code: string }).code, 'TAKEN');
    await server.stop(1);
    assert.deepEqual(seen, [{ url: '/teapot', status: 418 }, { url: '/bug', status: 409 }]);
  });

  test(`${mode}: test_shutdown_and_lifespan: run on drain, in order, the channel still up`, async () => {
    const { server, seen } = build(mode, [['Lifespan', 'lifespan'], ['OnShutdown', 'goodbye']]);
    await server.listen();
    assert.deepEqual(seen, [{ from: 'lifespan-up' }]);
    await server.stop(2);
    assert.deepEqual(seen, [{ from: 'lifespan-up' }, { from: 'lifespan-down' }, { from: 'shutdown' }]);
  });
}

test('a shutdown callback that never finishes is bounded: the others still run and the server stops', async () => {
  const { server, seen } = build('direct', [['OnShutdown', 'stuckShutdown'], ['OnShutdown', 'goodbye']]);
  await server.listen();
  await server.stop(1);
  assert.deepEqual(seen, [{ from: 'shutdown' }]);
  assert.equal(server.isRunning, false);
});

test('a web process whose startup callback fails after a crash is not restarted again and again', async () => {
  process.env.APPINFRA_TEST_MARKER = join(tmp, 'marker');
  const { server } = build('subprocess', [['OnStartup', 'failsAfterFirst']]);
  const failed = new Promise<unknown>((resolve) => server.once('failed', resolve));
  await server.listen();
  server.process!.kill('SIGKILL');
  await failed;
  assert.equal(server.restarts, 1, 'one restart, whose startup callback failed; then no more');
  assert.equal(server.isFailed, true);
  await server.stop(1);
});

test('subprocess mode refuses a function callback, saying how to pass a module instead', () => {
  const b = new ServerBuilder('x').withOnStartup(async function connectDb() {}).subprocess.withIpc(new Queue(), new Queue()).done();
  assert.throws(() => b.build(), (err: unknown) => err instanceof BuildError && /withOnStartup\(fn\) was given a function/.test(err.message) && /"connectDb"/.test(err.message));
});
