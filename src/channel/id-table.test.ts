import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IdTable } from './id-table.js';

test('property: an IdTable answers as a Map would, whatever the sequence of sets and deletes', () => {
  const op = fc.oneof(
    fc.record({ set: fc.string({ maxLength: 6 }), v: fc.integer() }),
    fc.record({ del: fc.string({ maxLength: 6 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const table = new IdTable<number>();
      const map = new Map<string, number>();
      for (const o of ops) {
        if ('set' in o) {
          table.set(o.set, o.v);
          map.set(o.set, o.v);
        } else {
          assert.equal(table.delete(o.del), map.delete(o.del));
        }
        assert.equal(table.size, map.size);
      }
      for (const k of new Set(ops.map((o) => ('set' in o ? o.set : o.del)))) {
        assert.equal(table.get(k), map.get(k));
        assert.equal(table.has(k), map.has(k));
      }
      assert.deepEqual([...table.values()].sort(), [...map.values()].sort());
      assert.deepEqual(table.keys().sort(), [...map.keys()].sort());
      assert.deepEqual(table.entries().sort(), [...map.entries()].sort());
    }),
    { numRuns: 300 },
  );
});

test('ids that are Object.prototype names are plain keys', () => {
  const table = new IdTable<string>();
  assert.equal(table.get('constructor'), undefined);
  assert.equal(table.has('__proto__'), false);
  table.set('__proto__', 'a');
  table.set('toString', 'b');
  assert.equal(table.get('__proto__'), 'a');
  assert.equal(table.size, 2);
  assert.equal(table.delete('__proto__'), true);
  assert.equal(table.size, 1);
});
