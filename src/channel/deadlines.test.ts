import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines, type Timed } from './deadlines.js';

interface Entry extends Timed {
  name: string;
}

function entry(name: string): Entry {
  return { name, deadline: 0, timeoutMs: 0, queued: 0 };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('entries expire once each, in deadline order across timeout lists; deleted ones never', async () => {
  const expired: string[] = [];
  const d = new Deadlines<Entry>((e) => expired.push(e.name));
  const before = timers();
  const [a, b, c, gone] = [entry('a'), entry('b'), entry('c'), entry('gone')];
  d.add(a, 60);
  d.add(b, 20);
  d.add(gone, 10);
  d.add(c, 40);
  d.delete(gone);
  assert.equal(d.size, 3);
  await sleep(120);
  assert.deepEqual(expired, ['b', 'c', 'a']);
  assert.equal(d.size, 0);
  assert.equal(timers(), before, 'no timer is left once every entry is gone');
});

test('touch moves a deadline: the entry outlives its first deadline and expires a full timeout after the touch', async () => {
  const expired: { name: string; at: number }[] = [];
  const start = performance.now();
  const d = new Deadlines<Entry>((e) => expired.push({ name: e.name, at: performance.now() - start }));
  const [stream, other] = [entry('stream'), entry('other')];
  d.add(stream, 50);
  d.add(other, 50);
  await sleep(30);
  d.touch(stream);
  await sleep(40);
  assert.deepEqual(
    expired.map((e) => e.name),
    ['other'],
    'the touched stream is still waiting',
  );
  await sleep(60);
  assert.deepEqual(
    expired.map((e) => e.name),
    ['other', 'stream'],
  );
  assert.ok(expired[1]!.at >= 78, `the stream expired ${expired[1]!.at.toFixed(0)} ms after start, not before its moved deadline`);
});

test('an entry added while others expire keeps its own deadline', async () => {
  const expired: string[] = [];
  const d = new Deadlines<Entry>((e) => {
    expired.push(e.name);
    if (e.name === 'first') d.add(entry('added-late'), 20);
  });
  d.add(entry('first'), 10);
  d.add(entry('slow'), 200);
  await sleep(60);
  assert.deepEqual(expired, ['first', 'added-late']);
  d.clear();
  assert.equal(d.size, 0);
});

test('the table emptying keeps its timer (no re-arm per request); entries added later still expire on time; the timer ends', async () => {
  const expired: string[] = [];
  const d = new Deadlines<Entry>((e) => expired.push(e.name));
  // The timer is unref'd (invisible to getActiveResourcesInfo): count the calls instead.
  const calls = { set: 0, clear: 0 };
  const [realSet, realClear] = [globalThis.setTimeout, globalThis.clearTimeout];
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => (calls.set++, realSet(...args))) as typeof setTimeout;
  globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => (calls.clear++, realClear(t))) as typeof clearTimeout;
  try {
    // Requests answered one at a time: the table goes 1-0-1-0, the one timer stays.
    for (let i = 0; i < 50; i++) {
      const e = entry(`quick${i}`);
      d.add(e, 60);
      d.delete(e);
    }
    assert.deepEqual(calls, { set: 1, clear: 0 }, 'armed once for 50 requests, never cleared');
    assert.equal(d.size, 0);
    // An entry with a shorter timeout than the armed one is not late...
    const start = performance.now();
    d.add(entry('short'), 15);
    // ...nor one with a longer one, which the spurious sweep re-arms for.
    d.add(entry('long'), 90);
    await sleep(40);
    assert.deepEqual(expired, ['short']);
    assert.ok(performance.now() - start < 60, 'expired at its own deadline, not the earlier armed one');
    await sleep(80);
    assert.deepEqual(expired, ['short', 'long']);
    assert.equal(d.size, 0);
    const armed = calls.set;
    await sleep(20);
    assert.equal(calls.set, armed, 'after the last entry expired, nothing re-arms');
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
    d.clear();
  }
});
