import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadedError, ResponseTimeoutError } from '../errors/index.js';
import type { EngineContext } from './context.js';
import { newHandlerStats } from './handler-stats.js';
import { WaitQueue, type Waiting } from './wait-queue.js';

function entry(id: string, deadline?: number): Waiting & { failedWith?: unknown; abort: () => void } {
  const controller = new AbortController();
  const ctx = { id, deadline, signal: controller.signal } as unknown as EngineContext;
  const e: Waiting & { failedWith?: unknown; abort: () => void } = {
    request: id,
    ctx,
    fail: (err) => {
      e.failedWith = err;
    },
    abort: () => controller.abort(new Error('gone')),
  };
  return e;
}

test('deadline order: soonest first, arrival order among equal deadlines, no deadline last', () => {
  const stats = newHandlerStats('limit');
  const q = WaitQueue.of('h', { queueOrder: 'deadline' }, stats);
  const now = Date.now();
  for (const [id, d] of [['none1', undefined], ['late', now + 9000], ['soon', now + 1000], ['soon2', now + 1000], ['none2', undefined], ['mid', now + 5000]] as const) q.admit(entry(id, d));
  assert.deepEqual(q.take(10).map((e) => e.request), ['soon', 'soon2', 'mid', 'late', 'none1', 'none2']);
  assert.equal(stats.queueWaitCount, 6);
});

test('fifo order, the bound refuses with 503 + Retry-After, a cancel removes the entry and frees its place', () => {
  const stats = newHandlerStats('limit');
  const q = WaitQueue.of('h', { maxQueue: 2, retryAfter: 4 }, stats);
  const a = entry('a');
  const b = entry('b');
  q.admit(a);
  q.admit(b);
  assert.throws(() => q.admit(entry('c')), (err: unknown) => err instanceof OverloadedError && err.retryAfter === 4);
  assert.equal(stats.refused, 1);
  a.abort();
  assert.ok(a.failedWith instanceof Error);
  assert.equal(stats.cancelled, 1);
  assert.equal(q.size, 1);
  assert.equal(q.enter(entry('d')), true, 'the place a left is free');
  assert.deepEqual(q.take(5).map((e) => e.request), ['b', 'd']);
});

test('past its deadline: refused at admission, dropped (504) when it expired while waiting', () => {
  const stats = newHandlerStats('batch');
  const q = WaitQueue.of('h', {}, stats);
  const late = entry('late', Date.now() - 1);
  assert.equal(q.enter(late), false);
  assert.ok(late.failedWith instanceof ResponseTimeoutError);
  const soon = entry('soon', Date.now() + 30);
  const fine = entry('fine', Date.now() + 60_000);
  q.admit(soon);
  q.admit(fine);
  const until = Date.now() + 40;
  while (Date.now() < until) {
    // Wait past `soon`'s deadline without a timer.
  }
  assert.deepEqual(q.take(5).map((e) => e.request), ['fine']);
  assert.ok(soon.failedWith instanceof ResponseTimeoutError);
  assert.equal(stats.expired, 2);
  assert.equal(stats.queued, 0);
});
