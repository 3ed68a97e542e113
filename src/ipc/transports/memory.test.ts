import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { Envelope } from '../../contract/envelope.js';
import { memoryLinkPair } from './memory.js';

const env = (id: string): Envelope => ({ kind: 'response', id });

test('memory link: delivery is deferred to a microtask and keeps order, one envelope or a batch', async () => {
  const [a, b] = memoryLinkPair();
  const got: string[] = [];
  b.onMessage((e) => got.push(e.id));
  a.send(env('1'));
  assert.deepEqual(got, [], 'nothing is delivered synchronously');
  await Promise.resolve();
  assert.deepEqual(got, ['1'], 'alone: in the next microtask');
  a.send(env('2'));
  a.send(env('3'));
  a.send(env('4'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['1', '2', '3', '4']);
  a.close();
});

test('memory link: what is sent while a batch is handled comes after that batch, in a later turn', async () => {
  const [a, b] = memoryLinkPair();
  const got: string[] = [];
  b.onMessage((e) => {
    got.push(e.id);
    // Re-entrant sends while the batch is being handled.
    if (e.id === 'x1') a.send(env('y1'));
    if (e.id === 'x2') a.send(env('y2'));
  });
  a.send(env('x1'));
  a.send(env('x2'));
  a.send(env('x3'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['x1', 'x2', 'x3', 'y1', 'y2']);
  // And the arrays it reuses start clean: a single envelope after a batch is alone.
  a.send(env('z'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['x1', 'x2', 'x3', 'y1', 'y2', 'z']);
  a.close();
});

test('memory link: closing mid-batch drops the rest, and nothing is delivered after close', async () => {
  const [a, b] = memoryLinkPair();
  const got: string[] = [];
  let reason = '';
  b.onClose((r) => (reason = r));
  b.onMessage((e) => {
    got.push(e.id);
    if (e.id === 'c2') b.close();
  });
  for (const id of ['c1', 'c2', 'c3', 'c4']) a.send(env(id));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['c1', 'c2']);
  assert.equal(reason, 'closed');
  assert.equal(a.isOpen, false, 'the peer closes too');
  a.send(env('late'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['c1', 'c2']);
});

test('memory link: a handler that throws is the process\'s uncaught exception, not an unhandled rejection', () => {
  // In a child process: the throw must reach it as a real uncaught exception would.
  const memory = new URL('./memory.ts', import.meta.url).href;
  const script = `
    import { memoryLinkPair } from ${JSON.stringify(memory)};
    process.on('uncaughtException', (err) => console.log('uncaught:' + err.message));
    process.on('unhandledRejection', (err) => console.log('rejection:' + err.message));
    const [a, b] = memoryLinkPair();
    const got = [];
    b.onMessage((e) => { got.push(e.id); if (e.id === 'boom') throw new Error('handler threw'); });
    a.send({ kind: 'response', id: 'boom' });
    setTimeout(() => { a.send({ kind: 'response', id: 'after' }); setTimeout(() => console.log('got:' + got.join(',')), 10); }, 10);
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['uncaught:handler threw', 'got:boom,after'], 'reported once, as uncaught, and the link keeps delivering');
});
