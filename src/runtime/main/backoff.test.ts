import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_CAP_S, HEALTHY_UPTIME_S, decideRestart } from './backoff.js';

const policy = { autoRestart: true, maxRestarts: 5, restartDelay: 1 };

test('the delay grows x1.5 per crash in a row, from the configured delay, up to the cap', () => {
  const delays = [0, 1, 2, 3].map((crashes) => decideRestart(policy, crashes, 1));
  assert.deepEqual(delays, [
    { restart: true, attempt: 1, delay: 1 },
    { restart: true, attempt: 2, delay: 1.5 },
    { restart: true, attempt: 3, delay: 2.25 },
    { restart: true, attempt: 4, delay: 3.375 },
  ]);
  assert.deepEqual(decideRestart({ ...policy, maxRestarts: 0, restartDelay: 10 }, 3, 1), { restart: true, attempt: 4, delay: BACKOFF_CAP_S });
});

test('maxRestarts crashes in a row give the slot up; 0 means no limit', () => {
  assert.deepEqual(decideRestart(policy, 5, 1), { restart: false });
  assert.equal(decideRestart(policy, 4, 1).restart, true);
  assert.equal(decideRestart({ ...policy, maxRestarts: 0 }, 1000, 1).restart, true);
});

test('a process that ran for the healthy uptime starts the count over', () => {
  assert.deepEqual(decideRestart(policy, 5, HEALTHY_UPTIME_S), { restart: true, attempt: 1, delay: 1 });
  assert.deepEqual(decideRestart(policy, 5, HEALTHY_UPTIME_S - 0.001), { restart: false });
});

test('autoRestart off never restarts', () => {
  assert.deepEqual(decideRestart({ ...policy, autoRestart: false }, 0, 100), { restart: false });
});
