import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonCodec } from '../../codecs/index.js';
import { BundleCodec, EntryCodec, ENTRY_FIELD, packMessage, unpackMessage } from './entry.js';

const secret = Buffer.alloc(32, 9);
const field = Buffer.from(ENTRY_FIELD);
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const id = fc.string({ minLength: 1, maxLength: 40 });

test('a sealed request entry opens to the same envelope, once', () => {
  fc.assert(
    fc.property(id, fc.string({ maxLength: 20 }), json, (rid, route, payload) => {
      const codec = new EntryCodec(jsonCodec, secret, ['request'], 30_000);
      const m = codec.seal({ kind: 'request', id: rid, route, payload });
      const e = codec.open([field, m]);
      assert.ok(typeof e === 'object', `refused: ${String(e)}`);
      assert.deepEqual({ kind: e.kind, id: e.id, route: e.route, payload: e.payload }, { kind: 'request', id: rid, route, payload });
      assert.equal(codec.open([field, m]), 'replay');
    }),
    { numRuns: 200 },
  );
});

test('a sealed entry with any one byte changed is refused, never opened', () => {
  fc.assert(
    fc.property(json, fc.nat(), fc.integer({ min: 1, max: 255 }), (payload, at, flip) => {
      const codec = new EntryCodec(jsonCodec, secret, ['request'], 30_000);
      const m = Buffer.from(codec.seal({ kind: 'request', id: 'w.1', payload }));
      const i = at % m.length;
      m[i] = m[i]! ^ flip;
      assert.equal(typeof codec.open([field, m]), 'string');
    }),
    { numRuns: 300 },
  );
});

test('any fields of any bytes: refused with a reason, never thrown, never a request', () => {
  const codec = new EntryCodec(jsonCodec, secret, ['request'], 30_000);
  const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));
  fc.assert(
    fc.property(fc.array(fc.oneof(bytes, fc.constant(field)), { maxLength: 6 }), (fields) => {
      assert.equal(typeof codec.open(fields), 'string');
    }),
    { numRuns: 500 },
  );
  const bundles = new BundleCodec(jsonCodec, secret, ['response'], 30_000);
  fc.assert(
    fc.property(bytes, (b) => {
      assert.equal(typeof bundles.open(b), 'string');
    }),
    { numRuns: 500 },
  );
});

test('pack and unpack: the parts come back as they went; bytes that are not a message give undefined', () => {
  const ascii = (min: number) => fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.'), minLength: min, maxLength: 50 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.double({ noNaN: true }), ascii(1), ascii(0), (f, t, n, s) => {
      const x = unpackMessage(packMessage({ f: Buffer.from(f), t, n, s }));
      assert.ok(x);
      assert.deepEqual([...x.f], [...f]);
      assert.deepEqual([Object.is(x.t, t) || x.t === t, x.n, x.s], [true, n, s]);
    }),
    { numRuns: 300 },
  );
  assert.equal(unpackMessage(Buffer.from([0, 0, 0, 9, 1])), undefined, 'length past the end');
  assert.equal(unpackMessage(Buffer.from([0, 0, 0, 0, 0x31, 0x20, 0x61])), undefined, 'two parts, not three');
  assert.equal(unpackMessage(Buffer.from('\0\0\0\0' + '1 a b c')), undefined, 'four parts');
});
