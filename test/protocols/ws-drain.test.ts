/**
 * Stopping a server with WebSocket clients connected: an idle socket holds no work, so it
 * is told 1001 (going away) at once and does not hold the stop for the drain timeout; a
 * socket with a stream in flight keeps it until the stream ends (within the timeout),
 * then gets 1001. Both modes: subprocess mode drains in the web process, direct mode in
 * this one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { ServerBuilder, Queue, type EngineContext } from '../../src/index.js';
import { assertNoLeaks, resourcesNow } from '../helpers.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

function build(subprocess: boolean) {
  let b = new ServerBuilder('ws-drain').withPort(0).routes.withWebSocket('/ws', { handler: 'slow' }).done();
  if (subprocess) b = b.subprocess.withIpc(new Queue<any>(), new Queue<any>()).done();
  const server = b.build();
  // Three chunks, 300 ms apart: a stream that is still running when stop() begins.
  server.engine.handle('slow', async function* (_req: unknown, ctx: EngineContext) {
    for (let i = 0; i < 3 && !ctx.signal.aborted; i++) {
      await sleep(300);
      yield { i };
    }
  });
  return server;
}

async function connect(url: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  ws.on('error', () => undefined);
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await once(ws, 'open');
  return { ws, frames, closed };
}

for (const subprocess of [true, false]) {
  const mode = subprocess ? 'subprocess' : 'direct';

  test(`${mode}: stop(5) with an idle WebSocket client returns at once and the client sees 1001`, { timeout: 30_000 }, async () => {
    const server = build(subprocess);
    const { url } = await server.listen();
    const client = await connect(url);
    const t0 = performance.now();
    await server.stop(5);
    const took = performance.now() - t0;
    assert.equal(await client.closed, 1001);
    // The drain timeout is 5 s; an idle socket must not hold the stop for it.
    assert.ok(took < 2000, `stop took ${Math.round(took)} ms`);
  });

  test(`${mode}: a WebSocket with a stream in flight finishes the stream before it is closed`, { timeout: 30_000 }, async () => {
    const server = build(subprocess);
    const { url } = await server.listen();
    const client = await connect(url);
    client.ws.send(JSON.stringify({ id: 's', data: {} }));
    // One chunk arrived: the stream is running when the stop begins.
    while (client.frames.length === 0) await once(client.ws, 'message');
    const t0 = performance.now();
    await server.stop(5);
    const took = performance.now() - t0;
    assert.equal(await client.closed, 1001);
    // The stream needs ~0.6 s more; the stop waits for it, not for the whole timeout.
    assert.ok(took < 3000, `stop took ${Math.round(took)} ms`);
    assert.deepEqual(
      client.frames.map((f) => f.type),
      ['chunk', 'chunk', 'chunk', 'end'],
      `frames: ${JSON.stringify(client.frames)}`,
    );
  });
}

test('stop() on a server that was never started is a no-op, and so is a second stop', async () => {
  for (const subprocess of [true, false]) {
    const server = build(subprocess);
    await server.stop();
    await server.stop(1);
    assert.equal(server.isRunning, false);
  }
  // Direct mode, built (ready()) but never listening: stop() releases what ready() opened.
  const direct = build(false);
  await direct.ready();
  await direct.stop();
  await direct.stop();
});
