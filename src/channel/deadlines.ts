/** What the deadline table keeps per request. */
export interface Timed {
  /** Absolute deadline, `performance.now()` milliseconds. */
  deadline: number;
  /** The request's timeout: entries with the same timeout expire in the order they were added. */
  timeoutMs: number;
  /** The deadline the entry had when it took its place in its list (`touch` moves `deadline` only). */
  queued: number;
  /** The list it is in, and its neighbours there (owned by `Deadlines`). */
  timedList?: unknown;
  timedPrev?: Timed | undefined;
  timedNext?: Timed | undefined;
}

/** One timeout value's entries, oldest first, linked through the entries themselves. */
class TimedList<T extends Timed> {
  head: T | undefined;
  tail: T | undefined;
  size = 0;

  push(entry: T): void {
    entry.timedList = this;
    entry.timedPrev = this.tail;
    entry.timedNext = undefined;
    if (this.tail) this.tail.timedNext = entry;
    else this.head = entry;
    this.tail = entry;
    this.size++;
  }

  /** Unlinks an entry of this list, and clears its links: a dead entry must not keep a younger one alive. */
  remove(entry: T): void {
    const { timedPrev: prev, timedNext: next } = entry as { timedPrev: T | undefined; timedNext: T | undefined };
    if (prev) prev.timedNext = next;
    else this.head = next;
    if (next) next.timedPrev = prev;
    else this.tail = prev;
    entry.timedList = entry.timedPrev = entry.timedNext = undefined;
    this.size--;
  }
}

/**
 * Every request deadline of one channel behind a single timer, instead of a timer per
 * request. Entries are kept per timeout value in insertion order: within one list the
 * first entry always expires first, so a sweep only looks at list heads. A stream that
 * receives a chunk just moves its deadline (`touch`); the sweep re-queues an entry whose
 * deadline moved instead of expiring it.
 *
 * The lists are linked through the entries, not kept in a `Set`: a long-lived Set with an
 * insert and a delete per request rebuilds its table as it goes, and V8's old tables keep
 * their entries reachable, so every request in flight at a scavenge was promoted with
 * everything it held (measured on the Redis caller at 64 in flight: 1.13 MB promoted per
 * scavenge with the Set, 0.75 MB with no deadlines at all).
 */
export class Deadlines<T extends Timed> {
  private readonly lists = new Map<number, TimedList<T>>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(private readonly expire: (entry: T) => void) {}

  add(entry: T, timeoutMs: number, now = performance.now()): void {
    if (entry.timedList) this.delete(entry);
    entry.timeoutMs = timeoutMs;
    entry.deadline = entry.queued = now + timeoutMs;
    let list = this.lists.get(timeoutMs);
    if (!list) this.lists.set(timeoutMs, (list = new TimedList<T>()));
    list.push(entry);
    if (entry.deadline < this.armedFor) this.arm(entry.deadline, now);
  }

  /** Pushes an entry's deadline to a full timeout from now (a stream's gap between chunks). */
  touch(entry: T, now = performance.now()): void {
    entry.deadline = now + entry.timeoutMs;
  }

  delete(entry: T): void {
    // The list stays when it empties, and the timer stays armed even with no entry left: the
    // table empties between requests when each is answered before the next arrives (direct
    // mode, a fast engine), and re-making the list and re-arming the timer per request cost
    // an allocation and a clearTimeout/setTimeout pair each time. The one spurious sweep
    // (unref'd, at most one per timeout) drops the empty lists.
    (entry.timedList as TimedList<T> | undefined)?.remove(entry);
  }

  get size(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.size;
    return n;
  }

  /** Stops the timer; entries stay (the owner fails them). */
  clear(): void {
    for (const list of this.lists.values()) while (list.head) list.remove(list.head);
    this.lists.clear();
    this.disarm();
  }

  private arm(at: number, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(at - now)));
    // Deadlines never keep a process alive: the requests they guard do.
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    const due: T[] = [];
    let next = Infinity;
    for (const [timeoutMs, list] of this.lists) {
      if (list.size === 0) {
        this.lists.delete(timeoutMs);
        continue;
      }
      // Touched entries go to the back in order, so the walk stops at the first entry not due.
      for (let entry = list.head; entry; entry = list.head) {
        if (entry.deadline <= now) {
          list.remove(entry);
          due.push(entry);
        } else if (entry.deadline !== entry.queued) {
          // Touched since it was queued: to the back of its list, where its deadline is in order.
          list.remove(entry);
          entry.queued = entry.deadline;
          list.push(entry);
        } else {
          next = Math.min(next, entry.deadline);
          break;
        }
      }
    }
    for (const entry of due) this.expire(entry);
    // An entry added while expiring others may have armed the timer already, possibly earlier.
    if (next < this.armedFor && this.lists.size > 0) this.arm(next, performance.now());
  };
}
