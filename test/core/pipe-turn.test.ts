import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipeLink } from '../../src/ipc/transports/pipe.js';
import { codecByName } from '../../src/ipc/codecs/index.js';
import type { Envelope } from '../../src/contract/envelope.js';
import { assertNoLeaks, resourcesNow, socketPair, waitFor } from '../helpers.js';

let baseline: string[];
let dir: string;
before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-batch-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

/** Two PipeLinks over a Unix socket; `writes` counts the sender's socket writes. */
async function links(codec: string) {
  const { a, b, server } = await socketPair(dir);
  let writes = 0;
  const write = a.write.bind(a) as (...args: unknown[]) => boolean;
  (a as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => (writes++, write(...args));
  const sender = new PipeLink(a, { codec: codecByName(codec) });
  const receiver = new PipeLink(b, { codec: codecByName(codec) });
  const got: Envelope[] = [];
  receiver.onMessage((e) => got.push(e));
  const close = async (): Promise<void> => {
    sender.close();
    receiver.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { sender, got, writes: () => writes, close };
}

for (const codec of ['json', 'msgpack', 'v8']) {
  test(`${codec}: chunks of interleaved streams in one turn keep each stream's order, and each chunk is what it was when sent`, async () => {
    const { sender, got, writes, close } = await links(codec);
    const shared = { n: 0 };
    // Below the flush bound (8 frames at an end): one turn, one write.
    for (let i = 0; i < 3; i++) {
      shared.n = i;
      sender.send({ kind: 'chunk', id: 'a', payload: shared });
      sender.send({ kind: 'chunk', id: 'b', payload: { i } });
    }
    sender.send({ kind: 'end', id: 'a' });
    // After the end of a stream, a chunk with the same id must not jump ahead of it.
    sender.send({ kind: 'chunk', id: 'a', payload: 'late' });
    sender.send({ kind: 'chunk', id: 'c', payload: undefined });
    await waitFor(() => got.length === 9, 2000, 'all envelopes');
    const of = (id: string) => got.filter((e) => e.id === id).map((e) => (e.kind === 'chunk' ? e.payload : e.kind));
    assert.deepEqual(of('a'), [{ n: 0 }, { n: 1 }, { n: 2 }, 'end', 'late']);
    assert.deepEqual(of('b'), [0, 1, 2].map((i) => ({ i })));
    assert.deepEqual(of('c'), [undefined]);
    assert.equal(writes(), 1, 'everything sent in one turn leaves in one write');
    await close();
  });
}

test('a busy turn does not hold its requests to the end: every 8 leave at once, the rest when the turn ends, in order', async () => {
  const { sender, got, writes, close } = await links('json');
  for (let i = 0; i < 20; i++) sender.send({ kind: 'request', id: `r${i}`, payload: i });
  assert.equal(writes(), 2, 'two full batches written while the turn still runs');
  await waitFor(() => got.length === 20, 2000, 'all envelopes');
  assert.equal(writes(), 3, 'the last 4 in one write at the end of the turn');
  assert.deepEqual(got.map((e) => e.payload), Array.from({ length: 20 }, (_, i) => i));
  await close();
});

test("a stream's chunks wait for their end, so an answer leaves in one write; chunks alone leave every 256", async () => {
  const { sender, got, writes, close } = await links('json');
  for (let i = 0; i < 40; i++) sender.send({ kind: 'chunk', id: 's', payload: i });
  assert.equal(writes(), 0, 'chunks alone, below 256: still waiting');
  sender.send({ kind: 'end', id: 's' });
  assert.equal(writes(), 1, 'the end completes 41 frames: they leave at once, together');
  for (let i = 0; i < 300; i++) sender.send({ kind: 'chunk', id: 't', payload: i });
  assert.equal(writes(), 2, 'a long stream in one turn: its first 256 chunks leave without waiting for the turn to end');
  await waitFor(() => got.length === 341, 2000, 'all envelopes');
  assert.equal(writes(), 3, 'the other 44 at the end of the turn');
  assert.deepEqual(got.filter((e) => e.id === 't').map((e) => e.payload), Array.from({ length: 300 }, (_, i) => i));
  assert.equal(got[40]!.kind, 'end');
  await close();
});
