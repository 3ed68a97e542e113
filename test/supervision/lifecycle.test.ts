/** Server lifecycle in subprocess mode: readiness, port 0, accessors, wrong-state errors, clean exit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, StateError, type Server } from '../../src/index.js';
import { guardLeaks, isAlive, waitFor } from '../helpers.js';
import { hit } from './load.js';

const ROUTES = new URL('./fixtures/routes.ts', import.meta.url).href;
const servers: Server[] = [];
guardLeaks({ cleanup: () => Promise.all(servers.map((s) => (s.isRunning ? s.stop(1) : undefined))) });

function build(configure: (b: ServerBuilder) => ServerBuilder = (b) => b): Server {
  const b = new ServerBuilder('lifecycle').withPort(0).routes.withForward('/echo', { methods: ['POST'], handler: 'echo' }).fromModule(ROUTES).done();
  const server = configure(b).subprocess.withIpc(new Queue(), new Queue()).withAutoRestart(true, 0.05, 3).done().build();
  server.engine.handle('echo', (req: { body: unknown }) => req.body);
  servers.push(server);
  return server;
}

test('startSubprocess() resolves once the web process listens, on the port 0 resolved to', async () => {
  const server = build();
  assert.equal(server.isRunning, false);
  assert.equal(server.pid, undefined);
  assert.equal(server.process, undefined);
  const child = await server.startSubprocess();
  assert.equal(server.isRunning, true);
  assert.equal(server.pid, child.pid);
  assert.equal(server.process, child);
  assert.deepEqual(server.processes, [child]);
  assert.notEqual(child.pid, process.pid);
  assert.ok(server.address!.port > 0);
  // Ready means ready: the very first request is served, by that process, through the engine.
  const who = await hit(`${server.address!.url}/whoami`);
  assert.equal(JSON.parse(who.body).pid, child.pid);
  const echo = await hit(`${server.address!.url}/echo`, { body: { x: 1 } });
  assert.deepEqual([echo.status, JSON.parse(echo.body)], [200, { x: 1 }]);

  await assert.rejects(server.startSubprocess(), (err: unknown) => err instanceof StateError && /starts once/.test(err.message));
  await assert.rejects(server.listen(), StateError);

  await server.stop(2);
  assert.equal(server.isRunning, false);
  assert.equal(isAlive(child.pid!), false, 'stop() ended the web process');
  assert.deepEqual(server.processes, []);
  assert.equal(server.pid, undefined);
  // A second stop is a no-op, not an error.
  await server.stop(2);
});

test('wrong-state calls say what to do', async () => {
  const server = build();
  // Stopping a server that never started is a no-op (cleanup code calls it on every path).
  await server.stop();
  assert.throws(() => server.app, /subprocess mode/);
  const direct = new ServerBuilder('direct').withPort(0).build();
  await assert.rejects(direct.startSubprocess(), (err: unknown) => err instanceof StateError && /withIpc/.test(err.message));
});

test('a port already taken fails start() with a clear error and leaves nothing running', async () => {
  const holder = build();
  await holder.listen();
  const server = build((b) => b.withPort(holder.address!.port));
  await assert.rejects(server.listen(), (err: unknown) => err instanceof StateError && /EADDRINUSE|failed to start/.test(err.message));
  assert.equal(server.isRunning, false);
  assert.deepEqual(server.processes, []);
  await holder.stop(1);
});

test('two servers of one process asking for port 0 get two ports, each served by its own web process', async () => {
  const [a, b] = [build(), build()];
  await Promise.all([a.listen(), b.listen()]);
  assert.notEqual(a.address!.port, b.address!.port);
  const [whoA, whoB] = await Promise.all([hit(`${a.address!.url}/whoami`), hit(`${b.address!.url}/whoami`)]);
  assert.equal(JSON.parse(whoA.body).pid, a.pid);
  assert.equal(JSON.parse(whoB.body).pid, b.pid);
  await Promise.all([a.stop(1), b.stop(1)]);
});

test('a clean exit (code 0) is not restarted: the server stops, start() returns', async () => {
  const server = build();
  let restarts = 0;
  server.on('restart', () => restarts++);
  const exited = new Promise<void>((resolve) => server.once('exit', resolve));
  const started = server.start();
  await waitFor(() => server.isRunning, 20_000, 'server to run');
  const pid = server.pid!;
  const r = await hit(`${server.address!.url}/exit`);
  assert.equal(JSON.parse(r.body).bye, pid);
  await exited;
  await started;
  assert.equal(restarts, 0);
  assert.equal(server.isRunning, false);
  assert.equal(isAlive(pid), false);
});
