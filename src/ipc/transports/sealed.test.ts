import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonCodec } from '../codecs/index.js';
import { decodeFrame, encodeFrame, FRAME_KINDS } from '../frame.js';
import { FrameDecoder } from '../framing.js';
import { generateSecret, Signer, Verifier } from '../signing.js';
import { FrameRefusedError, SignedFrameGuard } from './sealed.js';
import type { Envelope } from '../../contract/envelope.js';

const secret = generateSecret();
const MAX = 4096;

function guard(nonceCacheSize = 256): { guard: SignedFrameGuard; verifier: Verifier } {
  const verifier = new Verifier({ secret, ttlSeconds: 30, nonceCacheSize, maxPayloadBytes: MAX, kinds: FRAME_KINDS });
  return { guard: new SignedFrameGuard({ signer: new Signer(secret), verifier, maxPayloadBytes: MAX }), verifier };
}

/** What a signed PipeLink does with incoming bytes: frames out, or one refusal that ends the stream. */
function receive(g: SignedFrameGuard, chunks: Buffer[]): { envelopes: Envelope[]; refused?: FrameRefusedError } {
  const decoder = new FrameDecoder(g.maxFrameBytes);
  const envelopes: Envelope[] = [];
  try {
    for (const c of chunks) decoder.push(c, (frame) => envelopes.push(decodeFrame(g.open(frame), jsonCodec)));
  } catch (err) {
    return { envelopes, refused: g.broken(err) };
  }
  return { envelopes };
}

const envelope = fc.record({
  kind: fc.constantFrom(...FRAME_KINDS),
  id: fc.string({ maxLength: 30 }),
  route: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
  payload: fc.jsonValue({ maxDepth: 2 }),
}).map((e) => JSON.parse(JSON.stringify(e)) as Envelope);

function sealed(g: SignedFrameGuard, e: Envelope): Buffer {
  return g.seal(encodeFrame(e, jsonCodec), e.kind, e.id);
}

/** Splits bytes at arbitrary points, as TCP may deliver them. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

test('property: sealed frames survive any chunking and open to the same envelopes', () => {
  fc.assert(
    fc.property(fc.array(envelope, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (es, cuts) => {
      const { guard: g } = guard();
      const bytes = Buffer.concat(es.map((e) => sealed(g, e)));
      const r = receive(g, split(bytes, cuts));
      assert.equal(r.refused, undefined);
      assert.deepEqual(r.envelopes.map((e) => [e.kind, e.id, e.payload]), es.map((e) => [e.kind, e.id, e.payload]));
    }),
    { numRuns: 300 },
  );
});

test('a signature differing only in the unused bits of its last character is refused', () => {
  const { guard: g } = guard();
  const f = sealed(g, { kind: 'request', id: 'x', payload: 1 });
  const last = 4 + 1 + f[4]! + 8 + 42;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const idx = alphabet.indexOf(String.fromCharCode(f[last]!));
  f[last] = alphabet.charCodeAt(idx ^ 1);
  assert.ok(receive(g, [f]).refused instanceof FrameRefusedError);
});

test('property: a bit flipped anywhere after the length prefix is refused, never delivered', () => {
  fc.assert(
    fc.property(envelope, fc.nat(), fc.nat(7), (e, at, bit) => {
      const { guard: g } = guard();
      const f = sealed(g, e);
      const i = 4 + (at % (f.length - 4));
      f[i] = f[i]! ^ (1 << bit);
      const r = receive(g, [f]);
      assert.ok(r.refused instanceof FrameRefusedError, 'refused');
      assert.equal(r.envelopes.length, 0);
    }),
    { numRuns: 1000 },
  );
});

test('property: random, truncated and oversized bytes never throw past the guard, never hang, memory bounded', () => {
  const { guard: g, verifier } = guard(16);
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 2 * MAX }).map((b) => Buffer.from(b)),
    // A plausible prefix with a random body.
    fc.tuple(fc.nat(MAX + 400), fc.uint8Array({ maxLength: 600 })).map(([n, b]) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(n);
      return Buffer.concat([h, Buffer.from(b)]);
    }),
    // A valid frame cut short, or with bytes after it.
    fc.tuple(envelope, fc.nat(), fc.uint8Array({ maxLength: 40 })).map(([e, cut, tail]) => {
      const f = sealed(g, e);
      return cut % 2 === 0 ? f.subarray(0, cut % f.length) : Buffer.concat([f, Buffer.from(tail)]);
    }),
    // An oversize length prefix.
    fc.integer({ min: MAX + 200, max: 0xffffffff }).map((n) => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(n);
      return h;
    }),
  );
  fc.assert(
    fc.property(garbage, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const r = receive(g, split(bytes, cuts));
      if (r.refused) assert.ok(r.refused instanceof FrameRefusedError);
      assert.ok(verifier.cachedNonces <= 16);
    }),
    { numRuns: 2000 },
  );
});
