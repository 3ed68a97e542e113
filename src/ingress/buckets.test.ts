import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TokenBuckets } from './buckets.js';
import { parseRate, rateProblem } from './rate.js';

test('rate strings: the units of the original, and a message naming a malformed one', () => {
  assert.deepEqual(parseRate('60/min'), { limit: 60, periodMs: 60_000 });
  assert.deepEqual(parseRate('1000/hour'), { limit: 1000, periodMs: 3_600_000 });
  assert.deepEqual(parseRate('10/s'), { limit: 10, periodMs: 1000 });
  assert.deepEqual(parseRate(' 5 / Day '), { limit: 5, periodMs: 86_400_000 });
  assert.match(rateProblem('10 per s')!, /^Invalid rate limit format: '10 per s'/);
  assert.match(rateProblem('10/fortnight')!, /^Invalid rate limit unit: 'fortnight'/);
  assert.match(rateProblem('-1/s')!, /^Invalid rate limit format/);
  assert.match(rateProblem('0/s')!, /positive integer/);
  assert.throws(() => parseRate('x'), /Invalid rate limit format: 'x'/);
});

test('a bucket allows limit + burst at once, then one per refill interval, and tells when to retry', () => {
  let now = 0;
  const b = new TokenBuckets(() => now);
  const rule = { limit: 10, periodMs: 1000, burst: 5 };
  const first = Array.from({ length: 20 }, () => b.take('g', 'k', rule));
  assert.equal(first.filter((r) => r.allowed).length, 15);
  assert.deepEqual(first.slice(0, 3).map((r) => r.remaining), [14, 13, 12]);
  const refused = first[15]!;
  assert.equal(refused.allowed, false);
  assert.equal(refused.resetMs, 100);
  now = 99;
  assert.equal(b.take('g', 'k', rule).allowed, false);
  now = 100;
  assert.equal(b.take('g', 'k', rule).allowed, true);
  assert.equal(b.take('g', 'other', rule).allowed, true, 'keys are separate');
});

test('property: over any schedule of takes, allowed <= capacity + limit x elapsed / period', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 0, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 300 }),
      (limit, periodMs, burst, gaps) => {
        let now = 0;
        const b = new TokenBuckets(() => now);
        const rule = { limit, periodMs, burst };
        let allowed = 0;
        for (const gap of gaps) {
          now += gap;
          const r = b.take('g', 'k', rule);
          if (r.allowed) allowed++;
          assert.ok(r.remaining >= 0 && r.remaining <= limit + burst);
          assert.ok(r.resetMs >= 0);
        }
        return allowed <= limit + burst + Math.floor((limit * now) / periodMs) + 1e-9;
      },
    ),
  );
});
