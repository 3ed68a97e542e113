import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServerBuilder, type EngineContext } from '../../src/index.js';
import { createServer, ticker } from '../../examples/protocols/websocket.js';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';
import { FrameSocket, postJson, readSse } from './clients.js';

let baseline: string[];
let url: string;
let close: () => Promise<void>;
let engine: ReturnType<typeof createServer>['server']['engine'];
/** Contexts of the ticker streams the engine served, to see their signals. */
const tickers: EngineContext[] = [];

before(async () => {
  baseline = resourcesNow();
  const made = createServer(0);
  close = made.close;
  engine = made.server.engine;
  engine.handle('ticker', (req, ctx) => {
    tickers.push(ctx);
    return ticker(req, ctx);
  });
  ({ url } = await made.server.listen());
});

after(async () => {
  await close();
  await assertNoLeaks(baseline);
});

test('the handler behind an SSE route serves a WebSocket route unchanged', async () => {
  const sse = await readSse(await fetch(`${url}/countdown`, postJson({ from: 3 })));
  const ws = await FrameSocket.open(`${url}/ws/countdown`);
  try {
    ws.send({ type: 'request', id: 'c', data: { from: 3 } });
    const frames = await ws.ended('c');
    assert.deepEqual(frames.filter((f) => f.type === 'chunk').map((f) => f.data), sse.data);
    assert.deepEqual(sse.data, [{ n: 3 }, { n: 2 }, { n: 1 }]);
    assert.deepEqual(frames.at(-1), { type: 'end', id: 'c' });
  } finally {
    await ws.close();
  }
});

test('many streams on one socket, each in order; ids are assigned when a frame has none', async () => {
  const ws = await FrameSocket.open(`${url}/ws/countdown`);
  try {
    ws.send({ data: { from: 5 } });
    ws.send({ data: { from: 4 } });
    ws.send({ id: 'x', data: { from: 6 } });
    const one = await ws.ended('1');
    const two = await ws.ended('2');
    const x = await ws.ended('x');
    const ns = (fs: typeof one) => fs.filter((f) => f.type === 'chunk').map((f) => (f.data as { n: number }).n);
    assert.deepEqual(ns(one), [5, 4, 3, 2, 1]);
    assert.deepEqual(ns(two), [4, 3, 2, 1]);
    assert.deepEqual(ns(x), [6, 5, 4, 3, 2, 1]);
  } finally {
    await ws.close();
  }
});

test('a cancel frame ends that stream with cancelled: true and aborts the engine handler', async () => {
  const ws = await FrameSocket.open(`${url}/ws/ticker`);
  try {
    const before = tickers.length;
    ws.send({ id: 't1', data: { every: 5 } });
    ws.send({ id: 't2', data: { every: 5 } });
    await waitFor(() => ws.of('t1').length >= 2 && ws.of('t2').length >= 2, 5000, 'both tickers to tick');
    const [c1, c2] = tickers.slice(before);
    ws.send({ type: 'cancel', id: 't1' });
    const t1 = await ws.ended('t1');
    assert.deepEqual(t1.at(-1), { type: 'end', id: 't1', cancelled: true });
    await waitFor(() => c1!.signal.aborted, 5000, 'the engine to see the cancel');
    assert.equal(c2!.signal.aborted, false, 'the other stream on the socket goes on');
    const ticksBefore = ws.of('t2').length;
    await waitFor(() => ws.of('t2').length > ticksBefore + 2, 5000, 't2 to keep ticking');
    // Nothing for t1 after its end frame.
    const t1Count = ws.of('t1').length;
    ws.send({ type: 'cancel', id: 't2' });
    await ws.ended('t2');
    assert.equal(ws.of('t1').length, t1Count);
  } finally {
    await ws.close();
  }
});

test('closing the socket cancels every stream it carried (ctx.signal aborts in the engine)', async () => {
  const ws = await FrameSocket.open(`${url}/ws/ticker`);
  const before = tickers.length;
  for (const id of ['a', 'b', 'c']) ws.send({ id, data: { every: 5 } });
  await waitFor(() => tickers.length === before + 3 && ['a', 'b', 'c'].every((id) => ws.of(id).length > 0), 5000, 'three streams');
  const mine = tickers.slice(before);
  assert.ok(mine.every((c) => !c.signal.aborted));
  await ws.close();
  await waitFor(() => mine.every((c) => c.signal.aborted), 5000, 'every stream to be cancelled');
  await waitFor(() => engine.pendingCount === 0, 5000, 'the engine to forget them');
});

test('engine errors become error frames for that stream; the socket stays usable', async () => {
  const ws = await FrameSocket.open(`${url}/ws/countdown`);
  const bad = await FrameSocket.open(`${url}/ws/broken`);
  try {
    ws.send({ id: 'neg', data: { from: -1 } });
    const [err] = await ws.ended('neg');
    assert.deepEqual(err, { type: 'error', id: 'neg', error: { statusCode: 422, code: 'BAD_FROM', message: 'from must be a number >= 0' } });
    ws.send({ id: 'ok', data: { from: 1 } });
    assert.equal((await ws.ended('ok')).at(-1)?.type, 'end');

    bad.send({ id: 'b' });
    const [internal] = await bad.ended('b');
    assert.equal(internal?.error?.statusCode, 500);
    assert.equal(internal?.error?.message, 'Internal Server Error');
    assert.doesNotMatch(JSON.stringify(internal), /secret|stack|at /);
  } finally {
    await ws.close();
    await bad.close();
  }
});

test('bad frames, duplicate ids and too many streams are answered with error frames', async () => {
  const ws = await FrameSocket.open(`${url}/ws/ticker`);
  try {
    ws.send('not json');
    ws.send({ type: 'subscribe', id: 'q' });
    ws.send({ type: 'cancel', id: 'nope' });
    await waitFor(() => ws.frames.length >= 3, 5000, 'three error frames');
    assert.deepEqual(ws.frames.slice(0, 3).map((f) => [f.type, f.error?.code, f.error?.statusCode]), [
      ['error', 'BAD_FRAME', 400],
      ['error', 'BAD_FRAME', 400],
      ['error', 'NO_SUCH_STREAM', 404],
    ]);
    for (const id of ['1', '2', '3', '4']) ws.send({ id, data: { every: 50 } });
    ws.send({ id: '1', data: {} });
    ws.send({ id: '5', data: {} });
    const err = (id: string) => ws.of(id).find((f) => f.type === 'error');
    await waitFor(() => !!err('5') && !!ws.frames.find((f) => f.id === '1' && f.type === 'error'), 5000, 'limit errors');
    assert.equal(err('5')?.error?.code, 'TOO_MANY_STREAMS');
    assert.equal(err('1')?.error?.code, 'STREAM_EXISTS');
    // The duplicate did not end the stream already open under "1".
    const n = ws.of('1').filter((f) => f.type === 'chunk').length;
    await waitFor(() => ws.of('1').filter((f) => f.type === 'chunk').length > n, 5000, 'stream 1 to go on');
  } finally {
    await ws.close();
  }
});

test('a plain HTTP GET on a WebSocket route is told to upgrade (426)', async () => {
  const res = await fetch(`${url}/ws/countdown`);
  assert.equal(res.status, 426);
  assert.equal(((await res.json()) as { code: string }).code, 'UPGRADE_REQUIRED');
});

test('socket routes are validated at build(): GET only, positive window and maxStreams', () => {
  const b = () => new ServerBuilder('v').routes;
  assert.throws(() => b().withForward('/w', { reply: 'websocket', methods: ['POST'] }), /WebSocket upgrade, which is a GET/);
  assert.throws(() => b().withWebSocket('/w', { window: 0 }), /window must be a positive integer/);
  assert.throws(() => b().withWebSocket('/w', { maxStreams: 1.5 }), /maxStreams must be a positive integer/);
  assert.throws(() => b().withForward('/g', { reply: 'graphql' as never }), /withGraphQL/);
  const routes = b().withWebSocket('/k', { keyed: true, handler: 'h' }).withWebSocket('/w').done().build().webSpec.forwards;
  assert.deepEqual(routes.map((r) => [r.path, r.reply, r.handler, r.methods]), [
    ['/k', 'kv_stream', 'h', ['GET']],
    ['/w', 'websocket', '/w', ['GET']],
  ]);
});
