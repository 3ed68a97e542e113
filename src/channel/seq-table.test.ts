import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeqTable, slotOf } from './seq-table.js';

interface Row {
  readonly id: string;
  readonly n: number;
  slot: number;
}

// Ids as channels make them, from two prefixes, with counters that share a slot (n and n + 2^30),
// beside ids of other shapes: no counter, a trailing dot, capitals, a counter with a leading zero.
const counter = fc.oneof(fc.nat({ max: 40 }), fc.nat({ max: 40 }).map((n) => n + 2 ** 30), fc.nat({ max: 2 ** 40 }));
const id = fc.oneof(
  fc.tuple(fc.constantFrom('web-1.3f2a9c01.', 'web-2.77aa0b12.'), counter).map(([p, n]) => p + n.toString(36)),
  fc.constantFrom('x', '', '.', 'a.', 'a.B1', 'a.01', 'a.1', 'b.1', 'a.-1', '1'),
  fc.string({ maxLength: 5 }),
);

test('property: a SeqTable answers as a Map keyed by id would, whatever the sequence of adds, tryAdds, takes and deletes', () => {
  // A stranger (a row never added) may carry any slot: it must not delete the one held.
  const op = fc.oneof(fc.record({ add: id, checked: fc.boolean() }), fc.record({ del: id, same: fc.boolean(), slot: fc.integer({ min: -1, max: 2 ** 30 }) }), fc.record({ take: id }));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const table = new SeqTable<Row>();
      const map = new Map<string, Row>();
      let n = 0;
      for (const o of ops) {
        if ('add' in o) {
          const row = { id: o.add, n: n++, slot: -1 };
          if (o.checked) {
            // tryAdd: refuses an id that is there, and changes nothing then.
            assert.equal(table.tryAdd(row), !map.has(o.add));
            if (!map.has(o.add)) map.set(o.add, row);
          } else {
            // add's contract: an id is added only when it is not there (the Redis web link knows its ids are new).
            assert.equal(table.has(o.add), map.has(o.add));
            if (map.has(o.add)) continue;
            table.add(row);
            map.set(o.add, row);
          }
        } else if ('take' in o) {
          // take: the value held under the id, now gone, or undefined.
          assert.equal(table.take(o.take), map.get(o.take));
          map.delete(o.take);
        } else {
          const held = map.get(o.del);
          // Deleting another object with the same id leaves the one held.
          const row = o.same && held ? held : { id: o.del, n: -1, slot: o.slot };
          const expected = held === row;
          assert.equal(table.delete(row), expected);
          if (expected) map.delete(o.del);
        }
        assert.equal(table.size, map.size);
      }
      for (const o of ops) {
        const k = 'add' in o ? o.add : 'take' in o ? o.take : o.del;
        assert.equal(table.get(k), map.get(k));
      }
      assert.deepEqual(table.values().map((r) => r.n).sort((a, b) => a - b), [...map.values()].map((r) => r.n).sort((a, b) => a - b));
    }),
    { numRuns: 300 },
  );
});

test('property: thousands in flight at once, from two prefixes, some for a long time: the ring grows and answers as a Map', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 2 ** 30 }), fc.array(fc.nat(), { maxLength: 300 }), (n, base, deletes) => {
      const table = new SeqTable<Row>();
      const map = new Map<string, Row>();
      for (let i = 0; i < n; i++) {
        // Two channels at nearby counts: their counters meet in the same slots.
        for (const p of ['web-1.3f2a9c01.', 'web-2.77aa0b12.']) {
          const row = { id: p + (base + i).toString(36), n: map.size, slot: -1 };
          table.add(row);
          map.set(row.id, row);
        }
        if (i < deletes.length) {
          const victim = [...map.values()][deletes[i]! % map.size]!;
          assert.equal(table.delete(victim), true);
          map.delete(victim.id);
        }
      }
      assert.equal(table.size, map.size);
      for (const [k, v] of map) assert.equal(table.get(k), v);
      assert.equal(table.values().length, map.size);
      for (const v of table.values()) assert.equal(map.get(v.id), v);
    }),
    { numRuns: 40 },
  );
});

test('3000 in flight from one channel: the ring has grown to hold them all in slots, none by string', () => {
  const table = new SeqTable<Row>();
  for (let i = 0; i < 3000; i++) table.add({ id: `web-1.3f2a9c01.${i.toString(36)}`, n: i, slot: -1 });
  const inside = table as unknown as { mask: number; others: { size: number } };
  assert.equal(inside.mask + 1, 4096);
  assert.equal(inside.others.size, 0);
  assert.equal(table.get('web-1.3f2a9c01.' + (2999).toString(36))?.n, 2999);
});

test('slotOf reads the base-36 counter after the last dot, modulo 2^30, and refuses any other shape', () => {
  assert.equal(slotOf('web.abc.1b4'), parseInt('1b4', 36));
  assert.equal(slotOf('p.' + (2 ** 30 + 5).toString(36)), 5);
  assert.equal(slotOf('p.zzzzzzzzzz'), (36 ** 10 - 1) % 2 ** 30);
  for (const bad of ['nodot', 'p.', 'p.1B', 'p.1-', 'p.\u00e9']) assert.equal(slotOf(bad), -1, bad);
});
