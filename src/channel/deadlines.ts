/** What the deadline table keeps per request. */
export interface Timed {
  /** Absolute deadline, `performance.now()` milliseconds. */
  deadline: number;
  /** The request's timeout: entries with the same timeout expire in the order they were added. */
  timeoutMs: number;
  /** The deadline the entry had when it took its place in its list (`touch` moves `deadline` only). */
  queued: number;
}

/**
 * Every request deadline of one channel behind a single timer, instead of a timer per
 * request. Entries are kept per timeout value in insertion order (a Set): within one
 * list the first entry always expires first, so a sweep only looks at list heads. A
 * stream that receives a chunk just moves its deadline (`touch`); the sweep re-queues
 * an entry whose deadline moved instead of expiring it.
 */
export class Deadlines<T extends Timed> {
  private readonly lists = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(private readonly expire: (entry: T) => void) {}

  add(entry: T, timeoutMs: number, now = performance.now()): void {
    entry.timeoutMs = timeoutMs;
    entry.deadline = entry.queued = now + timeoutMs;
    let list = this.lists.get(timeoutMs);
    if (!list) this.lists.set(timeoutMs, (list = new Set()));
    list.add(entry);
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
    // a Set and a clearTimeout/setTimeout pair each time. The one spurious sweep (unref'd, at
    // most one per timeout) drops the empty lists.
    this.lists.get(entry.timeoutMs)?.delete(entry);
  }

  get size(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.size;
    return n;
  }

  /** Stops the timer; entries stay (the owner fails them). */
  clear(): void {
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
      for (const entry of list) {
        if (entry.deadline <= now) {
          due.push(entry);
        } else if (entry.deadline !== entry.queued) {
          // Touched since it was queued: to the back of its list, where its deadline is in order.
          list.delete(entry);
          entry.queued = entry.deadline;
          list.add(entry);
        } else {
          // In order and not due: nothing after it in this list is due either.
          next = Math.min(next, entry.deadline);
          break;
        }
      }
    }
    for (const entry of due) {
      this.delete(entry);
      this.expire(entry);
    }
    // An entry added while expiring others may have armed the timer already, possibly earlier.
    if (next < this.armedFor && this.lists.size > 0) this.arm(next, performance.now());
  };
}
