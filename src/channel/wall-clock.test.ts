import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WallClock } from './wall-clock.js';

test('wall clock: reads Date.now() from a performance.now() reading, within a millisecond or two', () => {
  const clock = new WallClock();
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const at = clock.at(performance.now());
    const after = Date.now();
    assert.ok(at >= before - 1 && at <= after + 1, `${at} within [${before}, ${after}]`);
    assert.equal(at, Math.round(at), 'whole milliseconds, as Date.now()');
  }
});

test('wall clock: follows a step of the system clock within a second of monotonic time, and a monotonic reading that goes back', (t) => {
  let wall = 5_000;
  t.mock.method(Date, 'now', () => wall);
  const clock = new WallClock();
  assert.equal(clock.at(100), 5_000);
  assert.equal(clock.at(600.4), 5_500, 'between samples: the monotonic clock advances it');
  wall = 90_000; // the system clock was stepped
  assert.equal(clock.at(1_099), 5_999, 'not yet sampled again');
  assert.equal(clock.at(1_100), 90_000, 'a second after the last sample: the new offset');
  wall = 200_000;
  assert.equal(clock.at(50), 200_000, 'an earlier reading than the sample (another clock source) samples again');
});
