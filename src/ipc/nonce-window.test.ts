import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NonceWindows } from './nonce-window.js';

test('property: a counter is accepted once, and only while within its signer\'s window (model: every counter accepted so far)', () => {
  const BITS = 64;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b.c'), fc.integer({ min: -80, max: 80 })), { maxLength: 400 }), (steps) => {
      const w = new NonceWindows(30_000, BITS);
      const model = new Map<string, { high: number; seen: Set<number> }>();
      let at = 0;
      for (const [prefix, delta] of steps) {
        const m = model.get(prefix) ?? { high: -1, seen: new Set<number>() };
        model.set(prefix, m);
        // Mostly forward, sometimes back by up to 80: inside and outside the window of 64.
        const c = Math.max(0, (m.high < 0 ? 0 : m.high) + delta + (at++ % 3 === 0 ? 1 : 0));
        const expected = !m.seen.has(c) && c > m.high - BITS;
        assert.equal(w.accept(`${prefix}.${c.toString(36)}`, 0), expected, `${prefix}.${c} after high ${m.high}`);
        if (expected) {
          m.seen.add(c);
          m.high = Math.max(m.high, c);
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('nonces not of the form prefix.counter (canonical base 36) are left to the caller', () => {
  const w = new NonceWindows(30_000);
  for (const n of ['plain', '.5', 'p.', 'p.05', 'p.A', 'p.-1', 'p.5_', 'p.1 ', `p.${'z'.repeat(11)}`]) assert.equal(w.accept(n, 0), undefined, n);
  assert.equal(w.accept('p.1.5', 0), true, 'the prefix may hold dots');
  assert.equal(w.size, 1);
});

test('windows are bounded in number, and a silent signer\'s is dropped after the TTL', () => {
  const w = new NonceWindows(1000, 64, 2);
  assert.equal(w.accept('a.1', 0), true);
  assert.equal(w.accept('b.1', 0), true);
  assert.equal(w.accept('c.1', 0), undefined, 'no room for a third signer');
  for (let i = 2; i < 1030; i++) w.accept(`a.${i.toString(36)}`, 5000);
  assert.equal(w.size, 1, 'b was silent past the TTL');
  assert.equal(w.accept('c.1', 5000), true);
});
