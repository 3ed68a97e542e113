import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IPCChannel } from '../../src/channel/channel.js';
import { Engine } from '../../src/engine/engine.js';
import { Queue } from '../../src/engine/queue.js';
import { PipeLink } from '../../src/ipc/transports/pipe.js';
import { memoryLinkPair } from '../../src/ipc/transports/memory.js';
import { codecByName } from '../../src/ipc/codecs/index.js';
import { FrameDecoder } from '../../src/ipc/framing.js';
import { EngineError, EncodeError, OverloadedError, QueueEmptyError, ResponseTimeoutError, ClientGoneError, StateError } from '../../src/errors/index.js';
import { assertNoLeaks, resourcesNow, socketPair, waitFor } from '../helpers.js';

let baseline: string[];
let dir: string;
before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-ipc-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

async function pipePair(codec = 'json', engine = new Engine(), channelOptions = {}) {
  const { a, b, server } = await socketPair(dir);
  const web = new PipeLink(a, { codec: codecByName(codec) });
  const eng = new PipeLink(b, { codec: codecByName(codec) });
  engine.attach(eng, 'web-test');
  const channel = new IPCChannel({ maxPending: 100, responseTimeout: 5, replyTo: 'web-test', ...channelOptions }, web);
  await channel.start();
  const dropLink = (): void => eng.close();
  const close = async (): Promise<void> => {
    await channel.stop();
    web.close();
    eng.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { channel, engine, close, dropLink };
}

test('frame decoder reassembles frames split anywhere and joins many in one chunk', () => {
  const bodies = ['a', 'bb'.repeat(1000), '', 'xyz'];
  const wire = Buffer.concat(bodies.flatMap((s) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(b.length);
    return [h, b];
  }));
  for (const step of [1, 3, 7, 4096]) {
    const d = new FrameDecoder(1 << 20);
    const got: string[] = [];
    for (let i = 0; i < wire.length; i += step) d.push(wire.subarray(i, i + step), (f) => got.push(f.toString()));
    assert.deepEqual(got, bodies, `split every ${step} bytes`);
  }
  const d = new FrameDecoder(10);
  assert.throws(() => d.push(Buffer.from([0, 0, 0, 11]), () => undefined), /exceeds the limit/);
});

for (const codec of ['json', 'msgpack', 'v8']) {
  test(`request/reply over a real socket with the ${codec} codec`, async () => {
    const { channel, engine, close } = await pipePair(codec);
    engine.handle('echo', (req: { id: string; n: number }, ctx) => ({ n: req.n * 2, via: ctx.replyTo, route: ctx.route }));
    const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => channel.submit({ n }, { route: 'echo' })));
    assert.deepEqual(replies.map((r) => (r as { n: number }).n), Array.from({ length: 50 }, (_, n) => n * 2));
    assert.equal((replies[0] as { via: string }).via, 'web-test');
    assert.equal(channel.pendingCount, 0);
    assert.equal(engine.pendingCount, 0);
    await close();
  });
}

test('engine errors map to status and code; anything else is a generic 500', async () => {
  const { channel, engine, close } = await pipePair();
  engine.handle('teapot', () => {
    throw new EngineError(418, 'short and stout', 'TEAPOT');
  });
  engine.handle('boom', () => {
    throw new Error('secret database password in this message');
  });
  await assert.rejects(channel.submit({}, { route: 'teapot' }), (e: EngineError) => e.status === 418 && e.code === 'TEAPOT' && e.message === 'short and stout');
  await assert.rejects(channel.submit({}, { route: 'boom' }), (e: EngineError) => e.status === 500 && !e.message.includes('secret') && !String(e.stack).includes('engine.ts'));
  await assert.rejects(channel.submit({}, { route: 'missing' }), (e: EngineError) => e.status === 501);
  await close();
});

test('timeout: 504 to the caller, cancel reaches the engine whose signal aborts, both tables empty', async () => {
  const { channel, engine, close } = await pipePair();
  let aborted: unknown;
  engine.handle('slow', (_req, ctx) => new Promise((resolve) => {
    ctx.signal.addEventListener('abort', () => {
      aborted = ctx.signal.reason;
      resolve('too late');
    });
  }));
  await assert.rejects(channel.submit({}, { route: 'slow', timeout: 0.05 }), ResponseTimeoutError);
  await waitFor(() => aborted !== undefined, 2000, 'engine abort');
  assert.ok(aborted instanceof ClientGoneError);
  assert.equal(channel.pendingCount, 0);
  await waitFor(() => engine.pendingCount === 0, 2000, 'engine pending to empty');
  assert.equal(channel.stats.timedOut, 1);
  await close();
});

test('abort signal (client gone) cancels the engine work', async () => {
  const { channel, engine, close } = await pipePair();
  let sawAbort = false;
  engine.handle('wait', (_req, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => {
    sawAbort = true;
    r(null);
  })));
  const ac = new AbortController();
  const p = channel.submit({}, { route: 'wait', signal: ac.signal });
  await sleep(20);
  ac.abort();
  await assert.rejects(p, ClientGoneError);
  await waitFor(() => sawAbort, 2000, 'engine abort');
  assert.equal(channel.pendingCount, 0);
  await close();
});

test('maxPending refuses at admission with OverloadedError (503 + Retry-After), never queues', async () => {
  const { channel, engine, close } = await pipePair('json', new Engine(), { maxPending: 3 });
  const gates: (() => void)[] = [];
  engine.handle('hold', () => new Promise((r) => gates.push(() => r('ok'))));
  const admitted = [1, 2, 3].map(() => channel.submit({}, { route: 'hold' }));
  await assert.rejects(channel.submit({}, { route: 'hold' }), (e: OverloadedError) => e.status === 503 && e.retryAfter >= 1);
  assert.equal(channel.pendingCount, 3);
  await waitFor(() => gates.length === 3, 2000, 'engine to hold 3');
  gates.forEach((g) => g());
  assert.deepEqual(await Promise.all(admitted), ['ok', 'ok', 'ok']);
  assert.equal(channel.stats.rejected, 1);
  await close();
});

test('an id in flight is refused at the channel, and at the engine (409) from another web link; it is free again once its request ended', async () => {
  const engine = new Engine();
  const one = await pipePair('json', engine);
  const two = await pipePair('json', engine);
  const gates: (() => void)[] = [];
  engine.handle('hold', (req: { n: number }) => new Promise((r) => gates.push(() => r(req.n))));
  const first = one.channel.submit({ id: 'same', n: 1 }, { route: 'hold' });
  await assert.rejects(one.channel.submit({ id: 'same', n: 2 }, { route: 'hold' }), (e: StateError) => e instanceof StateError && /already pending/.test(e.message));
  assert.equal(one.channel.pendingCount, 1, 'the refused request left nothing in the table');
  await waitFor(() => gates.length === 1, 2000, 'engine to hold the first');
  await assert.rejects(two.channel.submit({ id: 'same', n: 3 }, { route: 'hold' }), (e: EngineError) => e.status === 409 && e.code === 'DUPLICATE_ID');
  assert.equal(engine.pendingCount, 1);
  gates.shift()!();
  assert.equal(await first, 1);
  const again = one.channel.submit({ id: 'same', n: 4 }, { route: 'hold' });
  await waitFor(() => gates.length === 1, 2000, 'engine to take the id again');
  gates.shift()!();
  assert.equal(await again, 4);
  await one.close();
  await two.close();
});

test('a request the codec cannot encode is refused and leaves nothing behind: its id can be used at once', async () => {
  const { channel, engine, close } = await pipePair();
  engine.handle('echo', (req: { v: unknown }) => req.v);
  await assert.rejects(channel.submit({ id: 'big', v: 10n }, { route: 'echo' }), EncodeError);
  assert.equal(channel.pendingCount, 0);
  assert.equal(await channel.submit({ id: 'big', v: 'ok' }, { route: 'echo' }), 'ok');
  await close();
});

test('whenIdle: resolves once the last pending request ends, or when its bound passes with requests still out', async () => {
  const { channel, engine, close } = await pipePair();
  const gates: (() => void)[] = [];
  engine.handle('hold', () => new Promise((r) => gates.push(() => r('ok'))));
  assert.equal(await Promise.race([channel.whenIdle(10_000).then(() => 'idle'), sleep(50).then(() => 'waited')]), 'idle', 'nothing pending: at once');
  const first = channel.submit({}, { route: 'hold' });
  const second = channel.submit({}, { route: 'hold' });
  let idle = false;
  const waiting = channel.whenIdle(10_000).then(() => (idle = true));
  await waitFor(() => gates.length === 2, 2000, 'engine to hold both');
  gates.shift()!();
  await first;
  await sleep(20);
  assert.equal(idle, false, 'one request is still out');
  gates.shift()!();
  await second;
  await waiting;
  assert.equal(channel.pendingCount, 0);
  const third = channel.submit({}, { route: 'hold' });
  await channel.whenIdle(30);
  assert.equal(channel.pendingCount, 1, 'the bound passed with the request still out');
  await waitFor(() => gates.length === 1, 2000, 'engine to hold the third');
  gates.shift()!();
  assert.equal(await third, 'ok');
  await close();
});

test('queue style: requestQ.get / responseQ.put by id, chunks with isFinal end the stream in order', async () => {
  const requestQ = new Queue<any>();
  const responseQ = new Queue<any>();
  const engine = new Engine(requestQ, responseQ);
  const { channel, close } = await pipePair('msgpack', engine);
  await assert.rejects(requestQ.get({ timeout: 0.01 }), QueueEmptyError);
  const worker = (async () => {
    for await (const req of requestQ) {
      if (req.stream) {
        for (let i = 0; i < 5; i++) await responseQ.put({ id: req.id, token: `t${i}`, isFinal: i === 4 });
      } else {
        await responseQ.put({ id: req.id, result: String(req.data).toUpperCase() });
      }
    }
  })();
  // `{ id, result }` is the wrapper: the caller gets the result (README, "Queue style").
  assert.equal(await channel.submit({ id: 'req-1', data: 'abc' }), 'ABC');
  const tokens: string[] = [];
  for await (const chunk of channel.submitStreaming({ id: 'req-2', stream: true })) tokens.push((chunk as { token: string }).token);
  assert.deepEqual(tokens, ['t0', 't1', 't2', 't3', 't4']);
  // A reply for an id nobody waits for is dropped and counted, not a crash.
  await responseQ.put({ id: 'nobody', result: 1 });
  assert.equal(engine.stats.dropped, 1);
  assert.equal(channel.pendingCount, 0);
  assert.equal(engine.pendingCount, 0);
  requestQ.close();
  await worker;
  await close();
});

test('a reply for an unknown id reaching the web side is dropped and counted', async () => {
  const [webSide, engineSide] = memoryLinkPair();
  const channel = new IPCChannel({ maxPending: 10, responseTimeout: 1 }, webSide);
  await channel.start();
  engineSide.send({ kind: 'response', id: 'never-sent', payload: 1 });
  engineSide.send({ kind: 'chunk', id: 'never-sent-2', payload: 1 });
  await waitFor(() => channel.stats.dropped === 2, 1000, 'drops to be counted');
  assert.equal(channel.pendingCount, 0);
  await channel.stop();
  webSide.close();
});

test('async generator handler streams with credit: a paused consumer pauses the engine', async () => {
  const { channel, engine, close } = await pipePair('json', new Engine());
  let produced = 0;
  let stoppedAt = -1;
  engine.handle('gen', async function* (_req, ctx) {
    try {
      for (let i = 0; i < 1000; i++) {
        produced = i + 1;
        yield { i };
      }
    } finally {
      stoppedAt = produced;
      void ctx;
    }
  });
  const stream = channel.submitStreaming({}, { route: 'gen', window: 8 });
  const first = await stream.next();
  assert.deepEqual(first.value, { i: 0 });
  await sleep(150);
  // Window 8: the engine may run ahead by the window (plus the chunk in hand), not by 1000.
  assert.ok(produced <= 10, `engine produced ${produced} chunks while the consumer read 1`);
  const seen = [0];
  for (let k = 0; k < 20; k++) seen.push(((await stream.next()).value as { i: number }).i);
  assert.deepEqual(seen, Array.from({ length: 21 }, (_, i) => i));
  await stream.return!();
  await waitFor(() => stoppedAt >= 0, 2000, 'generator to be closed after cancel');
  assert.ok(stoppedAt < 1000);
  await waitFor(() => engine.pendingCount === 0, 2000, 'engine pending empty');
  assert.equal(channel.pendingCount, 0);
  await close();
});

test('losing the link fails every waiter with 503 and empties the engine table', async () => {
  const { channel, engine, close, dropLink } = await pipePair();
  let aborts = 0;
  engine.handle('hang', (_r, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => {
    aborts++;
    r(null);
  })));
  const pending = [1, 2, 3].map(() => channel.submit({}, { route: 'hang' }));
  await waitFor(() => engine.pendingCount === 3, 2000, 'engine to hold 3');
  const settled = Promise.allSettled(pending);
  dropLink();
  for (const r of await settled) assert.ok(r.status === 'rejected' && (r.reason as { status: number }).status === 503);
  await close();
  await waitFor(() => aborts === 3, 2000, 'engine aborts');
  assert.equal(engine.pendingCount, 0);
  assert.equal(engine.stats.lostWithLink, 3);
});
