/**
 * PipeLink over a real Unix socket: a value the codec cannot encode is refused by `send`
 * with an EncodeError before anything is queued (the link and the other envelopes of the
 * same turn go on, in order), and a receiver that throws is not taken for a corrupt
 * stream (the link stays open). Issue 15, item 1, at the transport.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipeLink } from '../../src/ipc/transports/pipe.js';
import { codecByName } from '../../src/ipc/codecs/index.js';
import type { Envelope } from '../../src/contract/envelope.js';
import { EncodeError } from '../../src/errors/index.js';
import { assertNoLeaks, resourcesNow, socketPair, waitFor } from '../helpers.js';
import { UNENCODABLE, unencodable } from './fixtures/unencodable/values.js';

let baseline: string[];
let dir: string;
before(() => {
  baseline = resourcesNow();
  dir = mkdtempSync(join(tmpdir(), 'appinfra-encode-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(baseline);
});

async function links(codec: string) {
  const { a, b, server } = await socketPair(dir);
  const sender = new PipeLink(a, { codec: codecByName(codec) });
  const receiver = new PipeLink(b, { codec: codecByName(codec) });
  const closed: string[] = [];
  sender.onClose((r) => closed.push(`sender: ${r}`));
  receiver.onClose((r) => closed.push(`receiver: ${r}`));
  const close = async (): Promise<void> => {
    sender.close();
    receiver.close();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { sender, receiver, closed, close };
}

for (const codec of ['json', 'msgpack', 'v8'] as const) {
  test(`${codec}: send throws EncodeError for ${UNENCODABLE[codec].join(', ')}, queues nothing of it, and the link goes on`, async () => {
    const { sender, receiver, closed, close } = await links(codec);
    const got: Envelope[] = [];
    receiver.onMessage((e) => got.push(e));
    let expected = 0;
    for (const kind of UNENCODABLE[codec]) {
      // In one turn: chunks before and after (json batches them), then a reply and a request.
      sender.send({ kind: 'chunk', id: kind, payload: { i: 0 } });
      for (const k of ['chunk', 'response', 'end', 'error', 'request'] as const) {
        assert.throws(
          () => sender.send({ kind: k, id: kind, payload: unencodable(kind) }),
          (err: unknown) => err instanceof EncodeError && err.code === 'APPINFRA_ERR_ENCODE' && err.status === 500 && err.codec === codec && err.reason.length > 0,
        );
      }
      sender.send({ kind: 'chunk', id: kind, payload: { i: 1 } });
      sender.send({ kind: 'end', id: kind, payload: 'done' });
      expected += 3;
    }
    assert.equal(sender.isOpen, true);
    await waitFor(() => got.length === expected, 2000, 'the encodable envelopes');
    for (const kind of UNENCODABLE[codec]) {
      const of = got.filter((e) => e.id === kind).map((e) => [e.kind, e.payload]);
      assert.deepEqual(of, [['chunk', { i: 0 }], ['chunk', { i: 1 }], ['end', 'done']]);
    }
    assert.deepEqual(closed, []);
    await close();
  });
}

test('a receiver that throws is not a corrupt stream: the link stays open and the next envelopes arrive', async () => {
  const { sender, receiver, closed, close } = await links('json');
  const got: string[] = [];
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  receiver.onMessage((e) => {
    if (e.id === 'bad') throw new Error('a bug in the receiver');
    got.push(e.id);
  });
  sender.send({ kind: 'response', id: 'one' });
  sender.send({ kind: 'response', id: 'bad' });
  sender.send({ kind: 'response', id: 'two' });
  await waitFor(() => got.length === 2, 2000, 'the envelopes after the throwing one');
  sender.send({ kind: 'response', id: 'three' });
  await waitFor(() => got.length === 3, 2000, 'an envelope sent later');
  assert.deepEqual(got, ['one', 'two', 'three']);
  assert.equal(receiver.isOpen, true);
  assert.deepEqual(closed, []);
  await waitFor(() => warnings.some((w) => w.message.includes('a bug in the receiver')), 2000, 'the bug to be reported as a warning');
  process.off('warning', onWarning);
  await close();
});
