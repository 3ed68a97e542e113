import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { RemoteBuckets } from './remote-buckets.js';
import type { FromWeb } from '../../contract/control.js';
import type { TakeResult } from '../../ingress/buckets.js';
import { ChannelClosedError } from '../../errors/index.js';

const rule = { limit: 10, burst: 0, periodMs: 1000 };
const result = (remaining: number): TakeResult => ({ allowed: true, remaining, resetMs: 5 });

test("one turn's takes go as one message; each answer reaches its own take, batches apart", async () => {
  const sent: Extract<FromWeb, { type: 'rate' }>[] = [];
  const b = new RemoteBuckets((m) => (sent.push(m as Extract<FromWeb, { type: 'rate' }>), true));
  const got: [string, number][] = [];
  for (const k of ['a', 'b', 'c']) b.takeLater('g', k, rule, (err, r) => got.push([k, err ? -1 : r!.remaining]));
  await turn();
  const late = b.take('g', 'd', rule);
  await turn();
  assert.deepEqual(
    sent.map((m) => [m.first, m.takes.map((t) => t.key)]),
    [
      [1, ['a', 'b', 'c']],
      [4, ['d']],
    ],
  );
  // Answers in the other order than asked: each batch is found by its first take.
  b.receive({ type: 'rate', first: 4, results: [result(9)] });
  b.receive({ type: 'rate', first: 1, results: [result(3), result(2), result(1)] });
  b.receive({ type: 'rate', first: 1, results: [result(0), result(0), result(0)] });
  assert.deepEqual((await late).remaining, 9);
  assert.deepEqual(got, [
    ['a', 3],
    ['b', 2],
    ['c', 1],
  ], 'once each, a repeated answer is dropped');
});

test('no control channel: every take of the turn fails at once with a 503', async () => {
  const b = new RemoteBuckets(() => false);
  const errs: unknown[] = [];
  b.takeLater('g', 'a', rule, (err) => errs.push(err));
  const p = b.take('g', 'b', rule).then(
    () => undefined,
    (err: unknown) => err,
  );
  await turn();
  errs.push(await p);
  assert.equal(errs.length, 2);
  for (const e of errs) assert.ok(e instanceof ChannelClosedError && e.status === 503, String(e));
});
