import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineContext } from '../../src/index.js';
import { createServer, prices, type Quote } from '../../examples/protocols/keyed.js';
import { assertNoLeaks, resourcesNow, waitFor } from '../helpers.js';
import { FrameSocket, type Frame } from './clients.js';

let baseline: string[];
let url: string;
let close: () => Promise<void>;
let engine: ReturnType<typeof createServer>['server']['engine'];
/** Per key, the engine contexts that served it (a key may be subscribed again later). */
const served = new Map<string, { ctx: EngineContext; key: unknown }[]>();

before(async () => {
  baseline = resourcesNow();
  const made = createServer(0);
  close = made.close;
  engine = made.server.engine;
  engine.handle('prices', (req, ctx) => {
    const list = served.get(req.key) ?? [];
    list.push({ ctx, key: req.key });
    served.set(req.key, list);
    return prices(req, ctx);
  });
  ({ url } = await made.server.listen());
});

after(async () => {
  await close();
  await assertNoLeaks(baseline);
});

const chunks = (frames: Frame[]): Quote[] => frames.filter((f) => f.type === 'chunk').map((f) => f.data as Quote);
const last = (key: string) => served.get(key)!.at(-1)!.ctx;

test('one key failing ends that key only; the others keep streaming, each in order', async () => {
  const ws = await FrameSocket.open(`${url}/prices`);
  try {
    for (const key of ['A', 'B', 'BAD1']) ws.send({ type: 'subscribe', key, data: { every: 5 } });
    const bad = await ws.ended('BAD1', 'key');
    assert.deepEqual(chunks(bad).map((q) => q.seq), [0, 1, 2]);
    assert.deepEqual(bad.at(-1), { type: 'error', key: 'BAD1', error: { statusCode: 404, code: 'UNKNOWN_SYMBOL', message: 'unknown symbol BAD1' } });

    const atFailure = { A: ws.of('A', 'key').length, B: ws.of('B', 'key').length };
    await waitFor(() => ws.of('A', 'key').length > atFailure.A + 3 && ws.of('B', 'key').length > atFailure.B + 3, 5000, 'A and B to go on');
    for (const key of ['A', 'B']) {
      const frames = ws.of(key, 'key');
      assert.ok(frames.every((f) => f.type === 'chunk'), `${key} got only chunks`);
      const seqs = chunks(frames).map((q) => q.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i), `${key} arrived in order with no gap`);
      assert.ok(chunks(frames).every((q) => q.symbol === key), `${key}'s frames carry only ${key}'s data`);
      assert.equal(last(key).signal.aborted, false);
    }
    // The engine served each key as its own request on the kv_stream port, with the key.
    for (const key of ['A', 'B', 'BAD1']) {
      assert.equal(last(key).port, 'kv_stream');
      assert.equal(served.get(key)!.at(-1)!.key, key);
    }
  } finally {
    await ws.close();
  }
  await waitFor(() => ['A', 'B'].every((k) => last(k).signal.aborted), 5000, 'closing the socket to cancel every key');
  await waitFor(() => engine.pendingCount === 0, 5000, 'the engine to forget them');
});

test('unsubscribe ends one key (its handler is aborted) and the key can be subscribed again', async () => {
  const ws = await FrameSocket.open(`${url}/prices`);
  try {
    ws.send({ type: 'subscribe', key: 'U1', data: { every: 5 } });
    ws.send({ type: 'subscribe', key: 'U2', data: { every: 5 } });
    await waitFor(() => ws.of('U1', 'key').length >= 2 && ws.of('U2', 'key').length >= 2, 5000, 'two keys streaming');
    const first = last('U1');
    ws.send({ type: 'unsubscribe', key: 'U1' });
    const u1 = await ws.ended('U1', 'key');
    assert.deepEqual(u1.at(-1), { type: 'end', key: 'U1', cancelled: true });
    await waitFor(() => first.signal.aborted, 5000, 'U1 handler to be aborted');
    assert.equal(last('U2').signal.aborted, false);

    const count = ws.of('U1', 'key').length;
    const u2 = ws.of('U2', 'key').length;
    await waitFor(() => ws.of('U2', 'key').length > u2 + 2, 5000, 'U2 to go on');
    assert.equal(ws.of('U1', 'key').length, count, 'nothing for U1 after its end frame');

    ws.send({ type: 'subscribe', key: 'U1', data: { every: 5 } });
    await waitFor(() => ws.of('U1', 'key').length > count, 5000, 'U1 again');
    assert.deepEqual(ws.of('U1', 'key')[count], { type: 'chunk', key: 'U1', data: { symbol: 'U1', seq: 0, price: 100 } });
  } finally {
    await ws.close();
  }
});

test('a key subscribed twice is refused without disturbing the open one; frames need a key and a verb', async () => {
  const ws = await FrameSocket.open(`${url}/prices`);
  try {
    ws.send({ type: 'subscribe', key: 'D', data: { every: 5 } });
    await waitFor(() => ws.of('D', 'key').length >= 1, 5000, 'D streaming');
    ws.send({ type: 'subscribe', key: 'D' });
    await waitFor(() => ws.of('D', 'key').some((f) => f.type === 'error'), 5000, 'the refusal');
    assert.equal(ws.of('D', 'key').find((f) => f.type === 'error')?.error?.code, 'STREAM_EXISTS');
    const n = chunks(ws.of('D', 'key')).length;
    await waitFor(() => chunks(ws.of('D', 'key')).length > n + 1, 5000, 'D to go on');
    const seqs = chunks(ws.of('D', 'key')).map((q) => q.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i));

    ws.send({ type: 'subscribe', data: {} });
    ws.send({ key: 'E' });
    await waitFor(() => ws.frames.filter((f) => f.key === null || f.key === 'E').length >= 2, 5000, 'two refusals');
    const refusals = ws.frames.filter((f) => f.key === null || f.key === 'E');
    assert.deepEqual(refusals.map((f) => f.error?.code), ['BAD_FRAME', 'BAD_FRAME']);
    assert.equal(served.has('E'), false, 'nothing reached the engine for a frame without a verb');
  } finally {
    await ws.close();
  }
});
