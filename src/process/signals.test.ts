import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { onStopSignal, type StopSignal } from './signals.js';

test('one pair of process listeners for any number of subscribers, gone with the last', async () => {
  const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  const heard: [string, StopSignal, number][] = [];
  const offA = onStopSignal((sig, n) => heard.push(['a', sig, n]));
  const offB = onStopSignal((sig, n) => heard.push(['b', sig, n]));
  assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], [before[0]! + 1, before[1]! + 1]);

  // A real signal to this process: every subscriber hears it, with the count so far.
  const heardBy = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && heard.length < n; i++) await sleep(5);
  };
  process.kill(process.pid, 'SIGTERM');
  await heardBy(2);
  offA();
  process.kill(process.pid, 'SIGINT');
  await heardBy(3);
  assert.deepEqual(heard, [['a', 'SIGTERM', 1], ['b', 'SIGTERM', 1], ['b', 'SIGINT', 2]]);

  offB();
  offB();
  assert.deepEqual([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before);
});
