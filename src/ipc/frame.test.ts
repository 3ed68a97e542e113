import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sjson from 'secure-json-parse';
import type { Envelope, EnvelopeKind } from '../contract/envelope.js';
import { codecByName } from './codecs/index.js';
import { decodeFrame, encodeFrame } from './frame.js';
import { FrameDecoder, HEADER_BYTES } from './framing.js';
import { RawForward } from '../contract/request.js';
import { InvalidJsonBodyError } from '../errors/index.js';

const KINDS: EnvelopeKind[] = ['request', 'response', 'error', 'chunk', 'end', 'cancel', 'credit', 'control'];

/** Plain data every codec carries the same way (no -0: msgpack writes it as the integer 0). */
const value = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

const envelope: fc.Arbitrary<Envelope> = fc
  .record(
    {
      kind: fc.constantFrom(...KINDS),
      id: fc.string({ maxLength: 40, unit: 'grapheme' }),
      replyTo: fc.string({ maxLength: 12 }),
      port: fc.constantFrom('request', 'response', 'stream', 'kv_stream' as const),
      route: fc.string({ maxLength: 12 }),
      deadline: fc.integer({ min: 0 }),
      traceparent: fc.string({ maxLength: 55 }),
      stream: fc.boolean(),
      window: fc.nat(1000),
      wantJson: fc.boolean(),
      json: fc.boolean(),
      payload: value,
    },
    { requiredKeys: ['kind', 'id'] },
  )
  .map((e) => e as Envelope);

/** What the receiver sees of an envelope: its fields and its decoded payload. */
function seen(e: Envelope): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: e.kind, id: e.id };
  for (const k of ['replyTo', 'port', 'route', 'deadline', 'traceparent', 'window'] as const) {
    if (e[k] !== undefined) out[k] = e[k];
  }
  // The flags travel as bits: set, or absent.
  if (e.stream) out.stream = true;
  if (e.wantJson) out.wantJson = true;
  out.payload = e.payload;
  return out;
}

for (const name of ['json', 'msgpack', 'v8']) {
  const codec = codecByName(name);
  test(`${name}: every envelope survives a frame round trip, split into any chunks`, () => {
    fc.assert(
      fc.property(fc.array(envelope, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(64), { maxLength: 8 }), (sent, cuts) => {
        const bytes = Buffer.concat(sent.map((e) => encodeFrame(e, codec)));
        const decoder = new FrameDecoder(1 << 20);
        const got: Envelope[] = [];
        let at = 0;
        for (const cut of [...cuts, bytes.length]) {
          const end = Math.min(bytes.length, at + cut);
          decoder.push(bytes.subarray(at, end), (frame) => got.push(decodeFrame(frame, codec)));
          at = end;
        }
        assert.deepEqual(got.map(seen), sent.map((e) => ({ ...seen(e), payload: expected(name, codec.json || e.json ? normalise(e.payload) : e.payload, e.json) })));
      }),
      { numRuns: 200 },
    );
  });
}

/**
 * msgpackr refuses to recreate a `__proto__` key (a prototype-pollution guard): it reads
 * back as `__proto_`. JSON text (the json codec, or a `json` reply) keeps it as an own key.
 */
function expected(codec: string, v: unknown, jsonText: boolean | undefined): unknown {
  if (codec !== 'msgpack' || jsonText) return v;
  if (Array.isArray(v)) return v.map((x) => expected(codec, x, jsonText));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k === '__proto__' ? '__proto_' : k, { value: expected(codec, x, jsonText), enumerable: true, writable: true, configurable: true });
  return out;
}

test('msgpack: a __proto__ key arrives renamed and never sets a prototype', () => {
  const payload = JSON.parse('{"__proto__":{"polluted":true}}') as unknown;
  const frame = encodeFrame({ kind: 'request', id: 'p1', payload }, codecByName('msgpack'));
  const got = decodeFrame(frame.subarray(HEADER_BYTES), codecByName('msgpack')).payload as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(got), Object.prototype);
  assert.deepEqual(Object.keys(got), ['__proto_']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

/** JSON text as a value reads back: -0 becomes 0 (the wire form of a number). */
function normalise(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

test('decodeFrame on arbitrary bytes either returns an envelope or throws an Error: never anything else, never a hang', () => {
  const codec = codecByName('json');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
      const frame = Buffer.from(raw);
      try {
        const e = decodeFrame(frame, codec);
        assert.ok(KINDS.includes(e.kind));
        assert.equal(typeof e.id, 'string');
        // A payload that does not decode throws when read, as an Error.
        try {
          void e.payload;
        } catch (err) {
          assert.ok(err instanceof Error);
        }
      } catch (err) {
        assert.ok(err instanceof Error, `threw ${String(err)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('a frame length over the limit is refused before its bytes are buffered', () => {
  const decoder = new FrameDecoder(16);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(17, 0);
  assert.throws(() => decoder.push(header, () => assert.fail('no frame')), /exceeds the limit of 16/);
});

test('a reply marked json travels as JSON text whatever the codec: the receiver can pass its bytes through', () => {
  for (const name of ['json', 'msgpack', 'v8']) {
    const frame = encodeFrame({ kind: 'response', id: 'r1', json: true, payload: { a: [1, 'x'] } }, codecByName(name));
    const e = decodeFrame(frame.subarray(HEADER_BYTES), codecByName(name));
    assert.equal(e.body?.json, true, name);
    assert.equal(e.body?.bytes.toString(), '{"a":[1,"x"]}', name);
    assert.deepEqual(e.payload, { a: [1, 'x'] }, name);
  }
  // Without the mark, only the json codec's payloads are JSON text.
  const msgpack = decodeFrame(encodeFrame({ kind: 'response', id: 'r2', payload: { a: 1 } }, codecByName('msgpack')).subarray(HEADER_BYTES), codecByName('msgpack'));
  assert.equal(msgpack.body?.json, false);
  assert.deepEqual(msgpack.payload, { a: 1 });
});

test('a forward request with its body as the client sent it: the body is parsed on arrival, and only a whole JSON value passes', () => {
  const head = fc.record({ id: fc.string({ maxLength: 20 }), method: fc.constantFrom('GET', 'POST'), path: fc.string({ maxLength: 30 }), params: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })), query: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })) });
  for (const name of ['json', 'msgpack', 'v8']) {
    const codec = codecByName(name);
    fc.assert(
      fc.property(head, fc.jsonValue(), fc.string({ maxLength: 20 }), (h, value, junk) => {
        const text = JSON.stringify(value);
        const got = decodeFrame(encodeFrame({ kind: 'request', id: h.id, payload: new RawForward(h, text) }, codec).subarray(HEADER_BYTES), codec);
        // Fastify's rule, whoever parses: a prototype key is refused, not stripped.
        if (refusedByFastify(text)) assert.throws(() => got.payload, InvalidJsonBodyError);
        else assert.deepEqual(got.payload, { ...JSON.parse(JSON.stringify(h)), body: JSON.parse(text) });
        // Anything after the value (a second value, an attempt to add fields to the request) is refused as a whole.
        const tail = `,"method":"DELETE"${junk}`;
        const bad = decodeFrame(encodeFrame({ kind: 'request', id: h.id, payload: new RawForward(h, text + tail) }, codec).subarray(HEADER_BYTES), codec);
        assert.throws(() => bad.payload, InvalidJsonBodyError);
      }),
      { numRuns: 100 },
    );
  }
});

function refusedByFastify(text: string): boolean {
  try {
    sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    return false;
  } catch {
    return true;
  }
}
