import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, Queue, type Server } from '../../src/index.js';
import { guardLeaks, waitFor, json } from '../helpers.js';

const HANDLERS = new URL('./fixtures/handlers.ts', import.meta.url);
let server: Server;
let base: string;

guardLeaks({ cleanup: () => server?.stop(5) });

before(async () => {
  server = new ServerBuilder('groups')
    .withPort(0)
    .withTimeout(20)
    .withProcessGroup('cpu', { module: HANDLERS, processes: 2, handlers: ['echo', 'burn', 'slow', { name: 'slowRetry', retry: 2 }, 'ticks', 'tickStats', 'fail'] })
    .routes.withForward('/echo', { methods: ['POST'], handler: 'echo' })
    .withForward('/burn', { methods: ['POST'], handler: 'burn' })
    .withForward('/slow', { handler: 'slow' })
    .withForward('/slow-retry', { handler: 'slowRetry' })
    .withForward('/ticks', { handler: 'ticks', reply: 'sse' })
    .withForward('/tick-stats', { handler: 'tickStats' })
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
