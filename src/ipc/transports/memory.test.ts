import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { Envelope } from '../../contract/envelope.js';
import { memoryLinkPair } from './memory.js';

const env = (id: string): Envelope => ({ kind: 'response', id });

test('memory link: the engine\'s answers reach the web side in the next microtask, in order, one envelope or a batch', async () => {
  const [web, engine] = memoryLinkPair();
  const got: string[] = [];
  web.onMessage((e) => got.push(e.id));
  engine.send(env('1'));
  assert.deepEqual(got, [], 'nothing is delivered synchronously');
  await Promise.resolve();
  assert.deepEqual(got, ['1'], 'alone: in the next microtask');
  engine.send(env('2'));
  engine.send(env('3'));
  engine.send(env('4'));
  await Promise.resolve();
  assert.deepEqual(got, ['1', '2', '3', '4']);
  web.close();
});

test('memory link: what the web side sends reaches the engine when the poll phase ends, a turn\'s envelopes together and in order', async () => {
  const [web, engine] = memoryLinkPair();
  const got: string[] = [];
  engine.onMessage((e) => got.push(e.id));
  web.send(env('a'));
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(got, [], 'not in a microtask: the rest of the turn comes first');
  // Sent from another callback of the same turn (as a second HTTP request is read).
  await new Promise<void>((resolve) => {
    process.nextTick(() => {
      web.send(env('b'));
      web.send(env('c'));
      resolve();
    });
  });
  assert.deepEqual(got, []);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['a', 'b', 'c'], 'all together once the poll phase ended');
  web.close();
});

test('memory link: what is sent while a batch is handled comes after that batch, in a later delivery', async () => {
  for (const direction of ['to the engine', 'to the web side'] as const) {
    const [web, engine] = memoryLinkPair();
    const [from, to] = direction === 'to the engine' ? [web, engine] : [engine, web];
    const got: string[] = [];
    to.onMessage((e) => {
      got.push(e.id);
      // Re-entrant sends while the batch is being handled.
      if (e.id === 'x1') from.send(env('y1'));
      if (e.id === 'x2') from.send(env('y2'));
    });
    from.send(env('x1'));
    from.send(env('x2'));
    from.send(env('x3'));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['x1', 'x2', 'x3', 'y1', 'y2'], direction);
    // And the arrays it reuses start clean: a single envelope after a batch is alone.
    from.send(env('z'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['x1', 'x2', 'x3', 'y1', 'y2', 'z'], direction);
    web.close();
  }
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
