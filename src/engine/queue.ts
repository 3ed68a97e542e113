import { QueueClosedError, QueueEmptyError } from '../errors/index.js';

export interface GetOptions {
  /** Seconds to wait; rejects with QueueEmptyError after it. Omit to wait without limit. */
  timeout?: number;
  /** Python's `block=False`: reject at once when empty. */
  block?: boolean;
  signal?: AbortSignal;
}

interface Getter<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * An in-process async FIFO with Python's queue manners: `get({ timeout })` rejects with
 * QueueEmptyError, `getNowait()`, `put()`, plus `for await` iteration. The framework
 * fills the request queue from the web processes and drains the response queue back to
 * them; the queues themselves never cross a process boundary.
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private getters: Getter<T>[] = [];
  private closed = false;
  /** Set by the owner that drains this queue (the engine's reply router). */
  private sink: ((item: T) => void | Promise<void>) | undefined;
  /** Set by the engine while metrics are on: told when an item is taken (its queue wait ends). */
  private taken: ((item: T) => void) | undefined;

  constructor(readonly name = 'queue') {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Python's `qsize()`. */
  qsize(): number {
    return this.size;
  }

  empty(): boolean {
    return this.size === 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adds an item. If the framework drains this queue (a response queue), the returned
   * promise resolves when the item may be followed by another without overrunning the
   * client (stream credit); awaiting it is optional.
   */
  put(item: T): Promise<void> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (this.sink) return Promise.resolve(this.sink(item));
    const getter = this.getters.shift();
    if (getter) {
      this.release(getter);
      this.taken?.(item);
      getter.resolve(item);
    } else {
      this.items.push(item);
    }
    return Promise.resolve();
  }

  /** Python's `put_nowait()`. */
  putNowait(item: T): void {
    void this.put(item).catch(() => undefined);
  }

  getNowait(): T {
    if (this.size === 0) {
      if (this.closed) throw new QueueClosedError();
      throw new QueueEmptyError();
    }
    return this.shift();
  }

  get(options: GetOptions = {}): Promise<T> {
    if (this.size > 0) return Promise.resolve(this.shift());
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (options.block === false) return Promise.reject(new QueueEmptyError());
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<T>((resolve, reject) => {
      const getter: Getter<T> = { resolve, reject, timer: undefined, signal: options.signal, onAbort: undefined };
      if (options.timeout !== undefined) {
        getter.timer = setTimeout(() => {
          this.remove(getter);
          reject(new QueueEmptyError());
        }, Math.max(0, options.timeout * 1000));
      }
      if (options.signal) {
        getter.onAbort = () => {
          this.remove(getter);
          reject(options.signal!.reason);
        };
        options.signal.addEventListener('abort', getter.onAbort, { once: true });
      }
      this.getters.push(getter);
    });
  }

  /** Ends iteration and rejects waiting getters; items already queued can still be taken. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.getters.splice(0)) {
      this.release(g);
      g.reject(new QueueClosedError());
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      try {
        yield await this.get();
      } catch (err) {
        if (err instanceof QueueClosedError) return;
        throw err;
      }
    }
  }

  /** @internal The engine routes puts on a response queue straight to the web process. */
  setSink(sink: ((item: T) => void | Promise<void>) | undefined): void {
    this.sink = sink;
  }

  /** @internal The engine times the wait of items on its request queue. */
  onTake(listener: ((item: T) => void) | undefined): void {
    this.taken = listener;
  }

  private shift(): T {
    const item = this.items[this.head]!;
    this.taken?.(item);
    this.items[this.head++] = undefined as T;
    // Compact occasionally so a long-lived queue does not keep a growing array.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private remove(getter: Getter<T>): void {
    const i = this.getters.indexOf(getter);
    if (i >= 0) this.getters.splice(i, 1);
    this.release(getter);
  }

  private release(getter: Getter<T>): void {
    if (getter.timer) clearTimeout(getter.timer);
    if (getter.onAbort) getter.signal?.removeEventListener('abort', getter.onAbort);
  }
}
