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
