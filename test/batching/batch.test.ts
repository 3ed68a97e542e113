/** Unary batching and per-handler limits, over a real socket pair between a web-side channel and the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Engine } from '../../src/engine/engine.js';
import { EngineError, OverloadedError, ResponseTimeoutError } from '../../src/errors/index.js';
import { guardLeaks, waitFor } from '../helpers.js';
import { enginePair, gate } from './pair.js';

const dir = guardLeaks({ tmp: 'appinfra-batch-' });

test('a batch leaves when it is full: 8 requests, maxBatchSize 4, maxWaitMs of a minute -> two batches of 4 at once', async () => {
  const sizes: number[] = [];
  const engine = new Engine().handleBatch('double', (xs: number[]) => {
    sizes.push(xs.length);
    return xs.map((x) => x * 2);
  }, { maxBatchSize: 4, maxWaitMs: 60_000 });
  const { channel, close } = await enginePair(dir, engine);
  const published: unknown[] = [];
  const listener = (m: unknown): void => void published.push(m);
  subscribe('appinfra:batch', listener);
  try {
    // A maxWaitMs of a minute: only size can make the first two batches leave.
    const first8 = Array.from({ length: 8 }, (_, i) => channel.submit(i, { route: 'double' }));
    assert.deepEqual(await Promise.all(first8), [0, 2, 4, 6, 8, 10, 12, 14]);
    assert.deepEqual(sizes, [4, 4]);
    const stats = engine.handlerStats().double!;
    assert.equal(stats.batches, 2);
    assert.equal(stats.maxBatchSizeSeen, 4);
    // The same figures on diagnostics_channel, for a metrics exporter's histograms.
    assert.deepEqual(published, [{ handler: 'double', kind: 'batch', size: 4 }, { handler: 'double', kind: 'batch', size: 4 }]);
  } finally {
    unsubscribe('appinfra:batch', listener);
    await close();
  }
});

test('a batch leaves after maxWaitMs with what it has', async () => {
  const sizes: number[] = [];
  const engine = new Engine().handleBatch('echo', (xs: string[]) => {
    sizes.push(xs.length);
    return xs;
  }, { maxBatchSize: 100, maxWaitMs: 50 });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const t0 = performance.now();
    const got = await Promise.all(['a', 'b', 'c'].map((x) => channel.submit(x, { route: 'echo' })));
    assert.deepEqual(got, ['a', 'b', 'c']);
    assert.deepEqual(sizes, [3], 'three requests of one turn make one batch');
    assert.ok(performance.now() - t0 >= 45, 'the batch waited for more before it left');
    // A later request is a batch of its own.
    assert.equal(await channel.submit('d', { route: 'echo' }), 'd');
    assert.deepEqual(sizes, [3, 1]);
  } finally {
    await close();
  }
});

test('per-item errors: one failing item does not fail the batch', async () => {
  const engine = new Engine().handleBatch('sqrt', (xs: number[]) =>
    xs.map((x) => (x < 0 ? new EngineError(422, `cannot take the root of ${x}`, 'NEGATIVE') : Math.sqrt(x))),
  { maxBatchSize: 3, maxWaitMs: 1000 });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const got = await Promise.allSettled([4, -1, 9].map((x) => channel.submit(x, { route: 'sqrt' })));
    assert.deepEqual(got[0], { status: 'fulfilled', value: 2 });
    assert.deepEqual(got[2], { status: 'fulfilled', value: 3 });
    assert.equal(got[1]!.status, 'rejected');
    const err = (got[1] as PromiseRejectedResult).reason as EngineError;
    assert.equal(err.status, 422);
    assert.equal(err.code, 'NEGATIVE');
    assert.equal(engine.stats.completed, 2);
    assert.equal(engine.stats.failed, 1);
  } finally {
    await close();
  }
});

test('a batch handler that throws fails each of its requests with a generic 500, never its message', async () => {
  const engine = new Engine().handleBatch('boom', () => {
    throw new Error('secret internals');
  }, { maxBatchSize: 2, maxWaitMs: 1000 });
  engine.logger.level = 'silent';
  const { channel, close } = await enginePair(dir, engine);
  try {
    const got = await Promise.allSettled([1, 2].map((x) => channel.submit(x, { route: 'boom' })));
    for (const r of got) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as EngineError).status, 500);
      assert.doesNotMatch((r.reason as EngineError).message, /secret/);
    }
  } finally {
    await close();
  }
});

test('a request cancelled while it waits is removed from the batch before it starts', async () => {
  const seen: string[][] = [];
  const engine = new Engine().handleBatch('echo', (xs: string[]) => {
    seen.push(xs);
    return xs;
  }, { maxBatchSize: 3, maxWaitMs: 60_000 });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const gone = new AbortController();
    const a = channel.submit('a', { route: 'echo' });
    const b = channel.submit('b', { route: 'echo', signal: gone.signal });
    await waitFor(() => engine.handlerStats().echo!.queued === 2, 5000, 'two requests queued');
    gone.abort();
    await assert.rejects(b);
    await waitFor(() => engine.handlerStats().echo!.cancelled === 1, 5000, 'the engine to drop the cancelled request');
    assert.equal(engine.handlerStats().echo!.queued, 1);
    // Two more fill the batch of 3: "b" is not in it.
    const rest = await Promise.all([a, channel.submit('c', { route: 'echo' }), channel.submit('d', { route: 'echo' })]);
    assert.deepEqual(rest, ['a', 'c', 'd']);
    assert.deepEqual(seen, [['a', 'c', 'd']]);
  } finally {
    await close();
  }
});

test('a request whose deadline passed while it waited is never started (504)', async () => {
  const seen: string[][] = [];
  const running = gate();
  const release = gate();
  // One batch at a time: the first holds the handler while the second request's deadline passes.
  const engine = new Engine().handleBatch('slow', async (xs: string[]) => {
    seen.push(xs);
    running.open();
    await release.opened;
    return xs;
  }, { maxBatchSize: 1, maxWaitMs: 0 });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const first = channel.submit('first', { route: 'slow', timeout: 30 });
    await running.opened;
    const late = channel.submit('late', { route: 'slow', timeout: 0.2 });
    await assert.rejects(late, ResponseTimeoutError);
    release.open();
    assert.equal(await first, 'first');
    await sleep(50);
    assert.deepEqual(seen, [['first']], 'the expired request never reached the handler');
    const s = engine.handlerStats().slow!;
    assert.equal(s.cancelled + s.expired, 1, 'dropped from the queue by its cancel or its deadline');
  } finally {
    await close();
  }
});

test('concurrency limit with a bounded queue: the one over the bound gets 503 with Retry-After', async () => {
  let active = 0;
  let most = 0;
  const release = gate();
  const engine = new Engine().handle('work', async (x: number) => {
    active++;
    most = Math.max(most, active);
    await release.opened;
    active--;
    return x;
  }, { concurrency: 2, maxQueue: 3, retryAfter: 7 });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const admitted = Array.from({ length: 5 }, (_, i) => channel.submit(i, { route: 'work' }));
    await waitFor(() => engine.handlerStats().work!.queued === 3, 5000, 'three queued behind two running');
    const refused = channel.submit(99, { route: 'work' });
    await assert.rejects(refused, (err: unknown) => err instanceof OverloadedError && err.status === 503 && err.retryAfter === 7);
    release.open();
    assert.deepEqual(await Promise.all(admitted), [0, 1, 2, 3, 4]);
    assert.equal(most, 2, 'never more than 2 at once');
    const s = engine.handlerStats().work!;
    assert.equal(s.refused, 1);
    assert.equal(s.admitted, 5);
    assert.equal(s.queueWaitCount, 3);
    assert.equal(s.running, 0);
    const summary = engine.handlerStats({ summary: true }).work!;
    assert.equal(summary.kind, 'limit');
    assert.equal(typeof summary.queueWaitMeanMs, 'number');
  } finally {
    await close();
  }
});

test('queueOrder "deadline": the request that must finish first goes first', async () => {
  const order: string[] = [];
  const release = gate();
  const engine = new Engine().handle('work', async (x: string) => {
    order.push(x);
    if (x === 'blocker') await release.opened;
    return x;
  }, { concurrency: 1, queueOrder: 'deadline' });
  const { channel, close } = await enginePair(dir, engine);
  try {
    const blocker = channel.submit('blocker', { route: 'work', timeout: 30 });
    await waitFor(() => order.length === 1, 5000, 'the blocker to run');
    const relaxed = channel.submit('relaxed', { route: 'work', timeout: 30 });
    const urgent = channel.submit('urgent', { route: 'work', timeout: 10 });
    await waitFor(() => engine.handlerStats().work!.queued === 2, 5000, 'two queued');
    release.open();
    await Promise.all([blocker, relaxed, urgent]);
    assert.deepEqual(order, ['blocker', 'urgent', 'relaxed']);
  } finally {
    await close();
  }
});
