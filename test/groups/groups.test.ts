import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BOUND } from '../protocols/flood.js';
import { guardLeaks, waitFor, json } from '../helpers.js';

const HANDLERS = new URL('./fixtures/handlers.ts', import.meta.url);
let server: Server;
let base: string;

const dir = guardLeaks({ tmp: 'groups-', cleanup: () => server?.stop(5) });

before(async () => {
  server = new ServerBuilder('groups')
    .withPort(0)
    .withTimeout(20)
    .withProcessGroup('cpu', { module: HANDLERS, processes: 2, handlers: ['echo', 'burn', 'slow', { name: 'slowRetry', retry: 2 }, 'ticks', 'fail'] })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/burn', { methods: ['POST'], handler: 'burn' })
    .withForward('/slow', { handler: 'slow' })
    .withForward('/slow-retry', { handler: 'slowRetry' })
    .withForward('/ticks', { handler: 'ticks', reply: 'sse', window: 8 })
    .withForward('/fail', { handler: 'fail' })
    .withForward('/here', { handler: 'here' })
    .done()
    .subprocess.withIpc(new Queue(), new Queue())
    .done()
    .build();
  server.engine.handle('here', () => ({ pid: process.pid }));
  const addr = await server.listen();
  base = addr.url;
});

test('a grouped handler runs in a group process; an ungrouped one in the main process', async () => {
  const r = await fetch(`${base}/echo`, json({ hello: 'world' }));
  assert.equal(r.status, 200);
  const body = (await r.json()) as { echo: unknown; pid: number };
  assert.deepEqual(body.echo, { hello: 'world' });
  const pids = server.groupStatus[0]!.processes.map((p) => p.pid);
  assert.ok(pids.includes(body.pid), `answered by ${body.pid}, group has ${pids}`);
  const here = (await (await fetch(`${base}/here`)).json()) as { pid: number };
  assert.equal(here.pid, process.pid);
});

test('least-loaded dispatch uses both processes; errors map as in the main process', async () => {
  const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${base}/burn`, json({ rounds: 20000 })).then((r) => r.json() as Promise<{ pid: number }>)));
  assert.equal(new Set(answers.map((a) => a.pid)).size, 2);
  const f = await fetch(`${base}/fail`);
  assert.equal(f.status, 418);
  assert.equal(((await f.json()) as { code: string }).code, 'TEAPOT');
});

test('/_health reports the group per process', async () => {
  await waitFor(async () => {
    const h = (await (await fetch(`${base}/_health`)).json()) as { groups?: { name: string; state: string; processes: { state: string; served: number }[] }[] };
    return h.groups?.[0]?.state === 'ok' && h.groups[0].processes.every((p) => p.state === 'ready') && h.groups[0].processes.some((p) => p.served > 0);
  }, 5000, 'health to report the group');
});

test('a stream through a group process: credit parks the producer while the client does not read; closing the client cancels it', async () => {
  const file = join(dir, 'ticks.json');
  const url = new URL(base);
  const sock = connect(Number(url.port), url.hostname);
  await once(sock, 'connect');
  sock.write(`GET /ticks?file=${encodeURIComponent(file)} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
  try {
  const [first] = (await once(sock, 'data')) as [Buffer];
  assert.match(first.toString('latin1'), /^HTTP\/1\.1 200/);
  sock.pause();
  const read = (): { produced: number; aborted: boolean; pid: number } => JSON.parse(readFileSync(file, 'utf8'));
  // Parked: the count stops growing (bounded by the credit window and the socket buffers).
  let last = -1;
  await waitFor(async () => {
    const now = read().produced;
    const still = now === last;
    last = now;
    await sleep(300);
    return still;
  }, 15000, 'the producer to park');
  // The same bound as the main process's backpressure test: the window plus what kernel buffers hold.
  assert.ok(last <= BOUND, `produced ${last} chunks of 64 KiB for a client that reads nothing (bound ${BOUND})`);
  const groupPids = server.groupStatus[0]!.processes.map((p) => p.pid);
  assert.ok(groupPids.includes(read().pid));
  sock.destroy();
  await waitFor(() => read().aborted, 5000, 'the handler\'s signal to abort after the client left');
  } finally {
    sock.destroy();
  }
});

/** The pid of the group process that has the one request in flight. */
async function busyProcess(): Promise<number> {
  let pid = 0;
  await waitFor(() => {
    pid = server.groupStatus[0]!.processes.find((p) => p.pending === 1)?.pid ?? 0;
    return pid !== 0;
  }, 5000, 'the request to reach a process');
  return pid;
}

test('kill -9 of the process holding an idempotent request: it is retried on the other process and succeeds', async () => {
  const retried = fetch(`${base}/slow-retry?ms=1500`);
  const victim = await busyProcess();
  process.kill(victim, 'SIGKILL');
  const r = await retried;
  assert.equal(r.status, 200);
  const body = (await r.json()) as { pid: number };
  assert.notEqual(body.pid, victim);
  await waitFor(() => server.groupStatus[0]!.processes.every((p) => p.state === 'ready'), 15000, 'the replacement');
});

test('kill -9 of the process holding a plain request: 502 APPINFRA_ERR_GROUP_LOST at once', async () => {
  const plain = fetch(`${base}/slow?ms=30000`);
  const victim = await busyProcess();
  const t0 = Date.now();
  process.kill(victim, 'SIGKILL');
  const r = await plain;
  assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms: promptly, not at the 20 s deadline`);
  assert.equal(r.status, 502);
  const body = (await r.json()) as { code: string; message: string };
  assert.equal(body.code, 'APPINFRA_ERR_GROUP_LOST');
  assert.match(body.message, /Process group "cpu"/);
  await waitFor(() => server.groupStatus[0]!.processes.every((p) => p.state === 'ready'), 15000, 'the replacement');
});
