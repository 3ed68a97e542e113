import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTraceparent, parseTraceparent } from './trace-context.js';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));

test('a valid traceparent round-trips through parse and format', () => {
  fc.assert(
    fc.property(hex(32), hex(16), fc.boolean(), (traceId, spanId, sampled) => {
      fc.pre(!/^0+$/.test(traceId) && !/^0+$/.test(spanId));
      const value = `00-${traceId}-${spanId}-0${sampled ? 1 : 0}`;
      const sc = parseTraceparent(value);
      assert.ok(sc);
      assert.equal(sc.traceId, traceId);
      assert.equal(sc.spanId, spanId);
      assert.equal(formatTraceparent(sc), value);
    }),
  );
});

test('any string parses to a valid span context or to nothing, never throws', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('0', 'a', 'f', '-', 'Z') , minLength: 50, maxLength: 60 })), (s) => {
      const sc = parseTraceparent(s);
      if (sc) {
        assert.match(sc.traceId, /^[0-9a-f]{32}$/);
        assert.match(sc.spanId, /^[0-9a-f]{16}$/);
      }
    }),
  );
});

test('malformed and all-zero ids are refused', () => {
  const ok = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.ok(parseTraceparent(ok));
  for (const bad of [
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    `${ok}-extra`,
    ok.slice(0, -1),
  ]) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
});
