/**
 * Values by string id, for tables whose entries come and go at the request rate and hold
 * a request's whole object graph (its waiter, Fastify request and reply).
 *
 * Not a `Map`: V8 rebuilds a Map's hash table as entries are added and deleted, and each
 * table it leaves behind keeps a link to its successor and the values it held. Once one
 * such table has reached the old generation, the young-generation collector has to keep
 * every later table alive, and with them every request that passed through: in a web
 * process at 64 connections, 2.3-2.5 MB survived each scavenge (all of it promoted), a
 * scavenge took 13-20 ms, and collection was 12% of the process's CPU (2% for plain
 * Fastify). With this table, 46 KB survived and a scavenge took 1-3 ms. An object in
 * dictionary mode drops a deleted entry for good.
 */
export class IdTable<V> {
  private entries: Record<string, V> = Object.create(null) as Record<string, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): V | undefined {
    return this.entries[id];
  }

  has(id: string): boolean {
    return this.entries[id] !== undefined;
  }

  /** Adds or replaces; `value` is never undefined. */
  set(id: string, value: V): void {
    if (this.entries[id] === undefined) this.count++;
    this.entries[id] = value;
  }

  delete(id: string): boolean {
    if (this.entries[id] === undefined) return false;
    delete this.entries[id];
    this.count--;
    return true;
  }

  /** A copy of the values: the caller may delete while it goes through them. */
  values(): V[] {
    return Object.values(this.entries);
  }
}
