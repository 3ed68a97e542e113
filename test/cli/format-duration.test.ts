/** Durations in log lines: what a person would write, never a float's rounding noise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeconds } from '../../src/runtime/main/format.js';

test('formatSeconds: milliseconds below a second, seconds with at most two decimals above', () => {
  // 0.05 x 1.5 is 0.07500000000000001 in floating point: the restart backoff's second delay.
  assert.equal(formatSeconds(0.05 * 1.5), '75 ms');
  assert.equal(formatSeconds(0.05 * 1.5 * 1.5), '112.5 ms');
  assert.equal(formatSeconds(0.1 + 0.2), '300 ms');
  assert.equal(formatSeconds(0), '0 ms');
  assert.equal(formatSeconds(0.0004), '0.4 ms');
  assert.equal(formatSeconds(1), '1s');
  assert.equal(formatSeconds(1.5 * 1.5 * 1.5), '3.38s');
  assert.equal(formatSeconds(15), '15s');
  assert.equal(formatSeconds(0.9996), '999.6 ms');
  assert.equal(formatSeconds(0.99999), '1s');
});
