/**
 * Stopping a server while stalled clients hold streams open: the stop must finish (within
 * its drain timeout plus the WebSocket close grace) and the engine's work must be
 * cancelled. Direct mode, where nothing else (a web process exiting) would cancel it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { WebSocket } from 'ws';
import { ServerBuilder, type EngineContext } from '../../src/index.js';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';

let baseline: string[];
before(() => {
  baseline = resourcesNow();
});
after(async () => {
  await assertNoLeaks(baseline);
});

function floodServer(http2Enabled: boolean) {
  const contexts: EngineContext[] = [];
  let b = new ServerBuilder('stop').withPort(0).routes.withForward('/sse', { handler: 'flood', reply: 'sse' }).withWebSocket('/ws', { handler: 'flood' }).done();
  if (http2Enabled) b = b.uvicorn.withHttp2().done();
  const server = b.build();
  server.engine.handle('flood', async function* (_req: unknown, ctx: EngineContext) {
    contexts.push(ctx);
    for (let i = 0; !ctx.signal.aborted; i++) yield { i, pad: 'x'.repeat(4096) };
  });
  return { server, contexts };
}

test('stop() with a WebSocket client that stopped reading ends the socket and cancels the engine', { timeout: 30_000 }, async () => {
  const { server, contexts } = floodServer(false);
  const { url } = await server.listen();
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  ws.on('error', () => undefined);
  await once(ws, 'open');
  ws.send('{}');
  await once(ws, 'message');
  ws.pause();
  await server.stop(0.2);
  await waitFor(() => contexts[0]!.signal.aborted, 5000, 'the engine stream to be cancelled');
  ws.terminate();
  if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close');
  assert.equal(server.engine.pendingCount, 0);
});

test('stop() with a paused h2 SSE stream cuts the session and cancels the engine', { timeout: 30_000 }, async () => {
  const { server, contexts } = floodServer(true);
  const { url } = await server.listen();
  const session = http2.connect(url);
  session.on('error', () => undefined);
  const req = session.request({ ':path': '/sse' });
  req.on('error', () => undefined);
  await once(req, 'data');
  req.pause();
  await server.stop(0.2);
  await waitFor(() => contexts[0]!.signal.aborted, 5000, 'the engine stream to be cancelled');
  session.destroy();
  assert.equal(server.engine.pendingCount, 0);
});
