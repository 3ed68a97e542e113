import { IdTable } from './id-table.js';

/** Slots are element indices of a dictionary-mode object: below 2^30, so never a string key. */
const SLOT_MASK = 0x3fffffff;

/**
 * Requests in flight by their id, for ids a channel makes: a prefix, a dot, a base-36
 * counter (`web-1.3f2a9c01.1b4`). Such an id is kept under its counter, an integer key,
 * and checked against the value's own `id` on the way out; an id of another shape, or one
 * whose counter slot is taken by another id (two web processes at the same count), goes
 * to an `IdTable` by its string. The answers are a Map's either way.
 *
 * Why not only an `IdTable`: an object keyed by a fresh string makes V8 intern it, one new
 * string table entry per request, and the table only sheds dead ids at a full collection.
 * Measured in a direct-mode server at 64 connections, interning was about 40% of
 * `IPCChannel.open`'s time (string table probes and resizes); an integer key is never
 * interned. Integer keys keep what `IdTable` was made for: a deleted entry is gone for
 * good (see ./id-table.ts).
 */
export class SeqTable<V extends { readonly id: string }> {
  private readonly slots: Record<number, V> = Object.create(null) as Record<number, V>;
  private slotted = 0;
  private readonly others = new IdTable<V>();

  get size(): number {
    return this.slotted + this.others.size;
  }

  get(id: string): V | undefined {
    const slot = slotOf(id);
    if (slot >= 0) {
      const v = this.slots[slot];
      if (v !== undefined && v.id === id) return v;
    }
    return this.others.size === 0 ? undefined : this.others.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `value` under its own id, which must not be in the table yet. */
  add(value: V): void {
    const slot = slotOf(value.id);
    if (slot >= 0 && this.slots[slot] === undefined) {
      this.slots[slot] = value;
      this.slotted++;
    } else {
      this.others.set(value.id, value);
    }
  }

  /** Removes `value` if it is the one held under its id. */
  delete(value: V): boolean {
    const slot = slotOf(value.id);
    if (slot >= 0 && this.slots[slot] === value) {
      delete this.slots[slot];
      this.slotted--;
      return true;
    }
    if (this.others.size === 0 || this.others.get(value.id) !== value) return false;
    return this.others.delete(value.id);
  }

  /** A copy of the values: the caller may delete while it goes through them. */
  values(): V[] {
    const own = Object.values(this.slots);
    return this.others.size === 0 ? own : own.concat(this.others.values());
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
