import { IdTable } from './id-table.js';

/** Counters are read modulo 2^30: every step of the reading stays an exact small integer. */
const SLOT_MASK = 0x3fffffff;

/** Ring sizes: a start small enough for a table per link, a bound on what growing may take. */
const FIRST_RING = 256;
const LAST_RING = 1 << 20;

/**
 * Requests in flight by their id, for ids a channel makes: a prefix, a dot, a base-36
 * counter (`web-1.3f2a9c01.1b4`). Such an id is kept in a ring of slots at its counter
 * modulo the ring's size, and checked against the value's own `id` on the way out; an id
 * of another shape, or one whose slot is taken (two web processes at nearby counts, or a
 * request still running when the counter has gone once round the ring), goes to an
 * `IdTable` by its string. The ring doubles when that overflow reaches a quarter of it.
 * The answers are a Map's either way.
 *
 * Why not only an `IdTable`: an object keyed by a fresh string makes V8 intern it, one new
 * string table entry per request, and the table only sheds dead ids at a full collection.
 * Measured in a direct-mode server at 64 connections, interning was about 40% of
 * `IPCChannel.open`'s time (string table probes and resizes). Why a ring and not integer
 * keys of a dictionary-mode object, as a first version had: an add, get and delete cost
 * about 300 ns there and 60 ns in the ring, reading the counter included (microbenchmark,
 * 64 in flight, rising counters), and a request passes through four such tables over Redis. Either way a
 * deleted entry is gone for good (what `IdTable` was made for, see ./id-table.ts).
 *
 * A value's `slot` belongs to the table: its id's counter, read when the value is added and
 * used again to delete it. Reading it costs about 25 ns a time (the id is a concatenation,
 * read through it), and a request in direct mode was read seven times on its way through the
 * channel's table and the engine's; now three.
 */
export class SeqTable<V extends { readonly id: string; slot: number }> {
  private slots: (V | undefined)[] = new Array<V | undefined>(FIRST_RING).fill(undefined);
  private mask = FIRST_RING - 1;
  private slotted = 0;
  private readonly others = new IdTable<V>();

  get size(): number {
    return this.slotted + this.others.size;
  }

  get(id: string): V | undefined {
    const slot = slotOf(id);
    if (slot >= 0) {
      const v = this.slots[slot & this.mask];
      if (v !== undefined && v.id === id) return v;
    }
    return this.others.size === 0 ? undefined : this.others.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `value` under its own id, which must not be in the table yet. */
  add(value: V): void {
    const slot = (value.slot = slotOf(value.id));
    if (slot >= 0 && this.slots[slot & this.mask] === undefined) {
      this.slots[slot & this.mask] = value;
      this.slotted++;
      return;
    }
    this.addOther(value, slot);
  }

  /** Adds `value` unless a value with its id is in the table: then false, and nothing changed. One read of the id. */
  tryAdd(value: V): boolean {
    const id = value.id;
    const slot = (value.slot = slotOf(id));
    if (slot >= 0) {
      const held = this.slots[slot & this.mask];
      if (held === undefined) {
        // The id may wait by string from when its slot was taken by another.
        if (this.others.size !== 0 && this.others.get(id) !== undefined) return false;
        this.slots[slot & this.mask] = value;
        this.slotted++;
        return true;
      }
      if (held.id === id) return false;
    }
    if (this.others.size !== 0 && this.others.get(id) !== undefined) return false;
    this.addOther(value, slot);
    return true;
  }

  private addOther(value: V, slot: number): void {
    this.others.set(value.id, value);
    if (slot >= 0 && this.others.size > (this.mask + 1) >> 2 && this.mask + 1 < LAST_RING) this.grow();
  }

  /** Removes the value held under `id` and returns it; undefined when there is none. */
  take(id: string): V | undefined {
    const v = this.get(id);
    if (v !== undefined) this.delete(v);
    return v;
  }

  /** Removes `value` if it is the one held under its id. */
  delete(value: V): boolean {
    // A value never added here cannot be the one in the slot its `slot` names, whatever that says.
    const slot = value.slot;
    if (slot >= 0 && this.slots[slot & this.mask] === value) {
      this.slots[slot & this.mask] = undefined;
      this.slotted--;
      return true;
    }
    if (this.others.size === 0 || this.others.get(value.id) !== value) return false;
    return this.others.delete(value.id);
  }

  /** A copy of the values: the caller may delete while it goes through them. */
  values(): V[] {
    const own: V[] = [];
    if (this.slotted > 0) for (const v of this.slots) if (v !== undefined) own.push(v);
    return this.others.size === 0 ? own : own.concat(this.others.values());
  }

  /** A ring twice the size, every value placed again (here, not by `add`: no growing within a growth). */
  private grow(): void {
    const all = this.values();
    for (const v of this.others.values()) this.others.delete(v.id);
    const slots = new Array<V | undefined>(2 * (this.mask + 1)).fill(undefined);
    const mask = slots.length - 1;
    let slotted = 0;
    for (const v of all) {
      const slot = v.slot;
      if (slot >= 0 && slots[slot & mask] === undefined) {
        slots[slot & mask] = v;
        slotted++;
      } else {
        this.others.set(v.id, v);
      }
    }
    this.slots = slots;
    this.mask = mask;
    this.slotted = slotted;
  }
}

/**
 * The slot of an id that ends in `.` and base-36 digits (0-9, a-z), else -1. Read from the
 * end, by hand: `lastIndexOf` leaves optimised code for the runtime on every call.
 */
export function slotOf(id: string): number {
  let n = 0;
  let weight = 1;
  for (let i = id.length - 1; i >= 0; i--) {
    const c = id.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 122) d = c - 87;
    else return c === 46 && i < id.length - 1 ? n : -1;
    // Each term and sum stays below 2^36, exact in a double; the mask keeps them modulo 2^30.
    n = (n + d * weight) & SLOT_MASK;
    weight = (weight * 36) & SLOT_MASK;
  }
  return -1;
}
