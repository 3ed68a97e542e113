/**
 * Direct mode's in-process path (memory link, engine, waiters) under what the hot-path
 * savings touched: a chunk goes out at once while there is credit and waits when there is
 * none (async generators and `ctx.send` alike), and a client that hangs up cancels every
 * request it has waiting, one or several on one connection.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerBuilder, type EngineContext, type Server } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';

let baseline: string[];
let server: Server;
let port: number;
const produced = { gen: 0, sends: 0 };
let aborted = 0;
/** Whether each `ctx.send` had resolved by the next microtask: at once with credit, later without. */
const settledAtOnce: boolean[] = [];

before(async () => {
  baseline = resourcesNow();
  server = new ServerBuilder('direct-link')
    .withHost('127.0.0.1')
    .withPort(0)
    .routes.withForward('/hang', { methods: ['POST'], handler: 'hang' })
    .done()
    .build();
  server.engine.handle('hang', (_req, ctx: EngineContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => {
    aborted++;
    resolve(null);
  })));
  server.engine.handle('gen', async function* () {
    for (let i = 0; i < 20; i++) {
      produced.gen = i + 1;
      yield { i };
    }
  });
  server.engine.handle('sends', async (_req, ctx: EngineContext) => {
    for (let i = 0; i < 20; i++) {
      produced.sends = i + 1;
      let settled = false;
      const sent = ctx.send({ i }).then(() => (settled = true));
      await Promise.resolve();
      settledAtOnce.push(settled);
      await sent;
    }
  });
  port = Number(new URL((await server.listen()).url).port);
});

after(async () => {
  await server.stop();
  await assertNoLeaks(baseline);
});

for (const route of ['gen', 'sends'] as const) {
  test(`direct mode, ${route}: chunks go out while there is credit, the engine waits without it, and all arrive in order`, async () => {
    const before = { stalls: server.engine.stats.creditStalls, chunks: server.engine.stats.chunks };
    settledAtOnce.length = 0;
    const stream = server.ipc!.submitStreaming({}, { route, window: 4 });
    assert.deepEqual((await stream.next()).value, { i: 0 });
    await sleep(50);
    // Window 4: the engine may be 4 chunks ahead of the consumer (plus the one in hand), not 20.
    assert.ok(produced[route] <= 6, `${route} produced ${produced[route]} while the consumer held 1`);
    const seen = [0];
    for await (const c of stream) seen.push((c as { i: number }).i);
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
    assert.ok(server.engine.stats.creditStalls > before.stalls, 'the stream ran out of credit at least once');
    assert.equal(server.engine.stats.chunks - before.chunks, 20);
    if (route === 'sends') {
      assert.equal(settledAtOnce[0], true, 'with credit, ctx.send has resolved by the next microtask');
      assert.ok(settledAtOnce.includes(false), 'without credit, ctx.send waits');
    }
    assert.equal(server.engine.pendingCount, 0);
  });
}

function post(path: string): string {
  return `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
}

test('direct mode: a client that hangs up cancels its waiting request, and each of several pipelined on one connection', async () => {
  const stats = server.ipc!.stats;
  for (const n of [1, 3]) {
    const [cancelled, abortedBefore] = [stats.cancelled, aborted];
    const sock = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write(Array.from({ length: n }, () => post('/hang')).join(''));
    // Node's HTTP server hands pipelined requests over at once: all n wait on one connection.
    await waitFor(() => server.engine.pendingCount === n, 2000, `the engine to hold ${n}`);
    sock.destroy();
    await waitFor(() => aborted - abortedBefore === n, 2000, `the engine to see ${n} cancelled`);
    assert.equal(stats.cancelled - cancelled, n);
    await waitFor(() => server.engine.pendingCount === 0 && server.ipc!.pendingCount === 0, 2000, 'both tables empty');
  }
});
