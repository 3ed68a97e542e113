/**
 * Values by string id, for tables whose entries come and go at the request rate and hold
 * a request's whole object graph (its waiter, Fastify request and reply).
 *
 * Not a `Map`: measured in a web process at 64 connections, with the channel's waiters in
 * a Map 2.3-2.5 MB survived each scavenge (all of it promoted), a scavenge took 13-20 ms
 * and collection was 12% of the process's CPU (2% for plain Fastify); with this table 46 KB
 * survived and a scavenge took 1-3 ms. The likely cause: V8 rebuilds a Map's hash table as
 * entries come and go, and a table it leaves behind keeps a link to its successor (for
 * iterators still walking it) and its old entries, so one such table in the old generation
 * keeps every later table, and every request that passed through them, alive past the
 * scavenge. An object in dictionary mode drops a deleted entry for good.
 */
export class IdTable<V> {
  private table: Record<string, V> = Object.create(null) as Record<string, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): V | undefined {
    return this.table[id];
  }

  has(id: string): boolean {
    return this.table[id] !== undefined;
  }

  /** Adds or replaces; `value` is never undefined. */
  set(id: string, value: V): void {
    if (this.table[id] === undefined) this.count++;
    this.table[id] = value;
  }

  delete(id: string): boolean {
    if (this.table[id] === undefined) return false;
    delete this.table[id];
    this.count--;
    return true;
  }

  /** A copy of the values: the caller may delete while it goes through them. */
  values(): V[] {
    return Object.values(this.table);
  }

  /** A copy of the ids, as `values`. */
  keys(): string[] {
    return Object.keys(this.table);
  }

  /** A copy of the [id, value] pairs, as `values`. */
  entries(): [string, V][] {
    return Object.entries(this.table);
  }
}
