/**
 * The main process as a real process (a user's script running server.start()): what
 * happens to the web processes when it is killed, stopped, or when they keep crashing,
 * and where their output goes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, isAlive, resourcesNow, waitFor } from '../helpers.js';
import { startMain, type MainProcess } from './proc.js';
import { hit, type Reply } from './load.js';

let baseline: string[];
let dir: string;
const mains: MainProcess[] = [];
const webPids: number[] = [];

before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-supervision-'));
});
after(async () => {
  // Whatever a failed test left: the mains, and their web processes (grandchildren of this one).
  for (const m of mains) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await Promise.all(mains.map((m) => m.exited));
  for (const pid of webPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

function main(env: Record<string, string> = {}): MainProcess {
  const m = startMain(env);
  mains.push(m);
  return m;
}

/** Resolves with the error code of a fresh TCP connection attempt, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('kill -9 of the main process leaves no web process behind', async () => {
  const m = main({ WORKERS: '2' });
  const ready = await m.event('ready');
  const pids = ready.pids as number[];
  webPids.push(...pids);
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.ok(isAlive(pid), `web process ${pid} runs`);
  assert.equal((await hit(`http://127.0.0.1:${ready.port}/whoami`)).status, 200);

  m.child.kill('SIGKILL');
  await m.exited;
  await waitFor(() => pids.every((pid) => !isAlive(pid)), 5000, 'web processes to exit after their main process was killed');
  assert.notEqual(await tryConnect(ready.port), 'connected', 'nothing listens on the port any more');
});

test('SIGTERM of the main process with 200 requests in flight: all 200 complete, new connections are refused, it exits', async () => {
  const m = main({ WORKERS: '2' });
  const ready = await m.event('ready');
  webPids.push(...(ready.pids as number[]));
  const base = `http://127.0.0.1:${ready.port}`;
  // Keep-alive clients: the drain must end their connections after the reply, not reset them.
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  const inFlight = Array.from({ length: 200 }, () => hit(`${base}/hold`, { agent }).catch((err: Error): Reply => ({ status: 0, body: err.message, headers: {} })));
  await m.event('held', (e) => e.n === 200);

  m.child.kill('SIGTERM');
  // Once the web processes drain, nobody accepts on the port: new connections fail at once.
  await waitFor(async () => (await tryConnect(ready.port)) !== 'connected', 5000, 'new connections to be refused');
  // The engine answers only now: in-flight requests finish after the drain began.
  m.child.stdin!.write('release\n');
  const replies = await Promise.all(inFlight);
  agent.destroy();
  const bad = replies.filter((r) => r.status !== 200);
  assert.deepEqual(bad, [], `${bad.length} of 200 in-flight requests did not complete with 200`);
  for (const r of replies) assert.equal(r.headers.connection, 'close', 'a reply during the drain closes its keep-alive connection');

  // server.start() returns; the script ends by itself, well within stop()'s 5 s timeout.
  const exit = await m.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(m.events().some((e) => e.event === 'stopped'));
  for (const pid of ready.pids as number[]) assert.equal(isAlive(pid), false);
});

test('log isolation: console.log in a route module goes to the log file, not to the main process output', async () => {
  const logFile = join(dir, 'nested', 'web.log');
  const m = main({ LOG_FILE: logFile });
  const ready = await m.event('ready');
  webPids.push(...(ready.pids as number[]));
  const r = await hit(`http://127.0.0.1:${ready.port}/print?text=marker-7f3a`);
  assert.equal(r.status, 200);
  m.child.kill('SIGTERM');
  const exit = await m.exited;
  assert.equal(exit.code, 0);

  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /route says marker-7f3a/, 'stdout of the web process is in the file');
  assert.match(log, /route warns marker-7f3a/, 'stderr of the web process is in the file');
  assert.ok(!m.stdout.includes('marker-7f3a') && !m.stderr.includes('marker-7f3a'), 'the main process printed the route output');
  // The main process printed only its own JSON lines: nothing from the web process leaked.
  const foreign = m.stdout.split('\n').filter((l) => l && !l.startsWith('{"event"'));
  assert.deepEqual(foreign, []);
  assert.equal(m.stderr, '');
});

test('past maxRestarts the server is failed: an event, a log line, and 503 from /_health', async () => {
  const m = main({ MAX_RESTARTS: '1', RESTART_DELAY: '0.05' });
  const ready = await m.event('ready');
  const first = (ready.pids as number[])[0]!;
  webPids.push(first);
  process.kill(first, 'SIGKILL');
  const restarted = await m.event('started', (e) => e.pid !== first);
  webPids.push(restarted.pid as number);
  // The replacement serves on the same port.
  assert.equal(JSON.parse((await hit(`http://127.0.0.1:${ready.port}/whoami`)).body).pid, restarted.pid);

  process.kill(restarted.pid as number, 'SIGKILL');
  const failed = await m.event('failed');
  assert.equal(failed.restarts, 1);
  await waitFor(() => /will not be restarted/.test(m.stdout), 5000, 'the failure to be logged');
  const line = JSON.parse(m.stdout.split('\n').find((l) => l.includes('will not be restarted'))!) as Record<string, unknown>;
  assert.equal(line.level, 50, 'logged as an error');

  // No web process is left; the main process answers on the port itself, 503 to everything.
  let health: Awaited<ReturnType<typeof hit>> | undefined;
  await waitFor(async () => (health = await hit(`http://127.0.0.1:${ready.port}/_health`).catch(() => undefined)) !== undefined, 5000, 'the port to answer');
  assert.equal(health!.status, 503);
  const body = JSON.parse(health!.body) as { status: string; workers: number; restarts: number; failed: boolean; ipc: { connected: boolean } };
  assert.equal(body.status, 'unavailable');
  assert.equal(body.workers, 0);
  assert.equal(body.restarts, 1);
  assert.equal(body.failed, true);
  assert.equal(body.ipc.connected, false);
  assert.equal((await hit(`http://127.0.0.1:${ready.port}/echo`, { body: { a: 1 } })).status, 503);

  m.child.kill('SIGTERM');
  assert.equal((await m.exited).code, 0);
  assert.equal(await tryConnect(ready.port), 'ECONNREFUSED', 'stop() closed the fallback listener');
});
