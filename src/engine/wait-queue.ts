import { OverloadedError, ResponseTimeoutError } from '../errors/index.js';
import type { EngineContext } from './context.js';
import type { HandlerStats, QueueOptions, QueueOrder } from './handler-stats.js';
import type { PendingRequest } from './pending.js';
import { positive } from './lane.js';
import { publish } from '../observability/diagnostics.js';

/** One request waiting for its turn at a limited or batching handler. */
export interface Waiting<Req = unknown> {
  readonly request: Req;
  readonly ctx: EngineContext;
  /** Ends the request with an error (its batch never saw it). */
  fail(err: unknown): void;
  /** performance.now() when it was admitted. */
  admitted?: number;
  /** @internal */
  unlisten?: () => void;
}

/** A request the engine owns, waiting at one of its lanes. */
export interface Queued extends Waiting {
  ctx: PendingRequest;
}

const never = Number.POSITIVE_INFINITY;


/**
 * The bounded queue in front of a handler: refuses at admission when full (503 +
 * Retry-After, as the web side's `maxPending` does), orders by arrival or by deadline,
 * and drops entries that were cancelled or whose deadline passed before they cost anything.
 */
export class WaitQueue<E extends Waiting> {
  private items: E[] = [];

  constructor(
    private readonly handler: string,
    private readonly maxQueue: number,
    private readonly order: QueueOrder,
    private readonly retryAfter: number,
    private readonly stats: HandlerStats,
  ) {}

  /** A queue with a lane's options: 1000 places, FIFO, Retry-After 1 s unless they say otherwise. */
  static of<E extends Waiting>(handler: string, options: QueueOptions, stats: HandlerStats): WaitQueue<E> {
    return new WaitQueue<E>(handler, positive(options.maxQueue, 1000), options.queueOrder ?? 'fifo', positive(options.retryAfter, 1), stats);
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * Admits a request or throws: OverloadedError when the queue is full, ResponseTimeoutError
   * when its deadline already passed. A cancel while it waits removes it at once.
   */
  admit(entry: E): void {
    if (expired(entry.ctx)) {
      this.stats.expired++;
      throw new ResponseTimeoutError(`The deadline of request ${entry.ctx.id} passed before handler "${this.handler}" could start it`);
    }
    if (this.items.length >= this.maxQueue) {
      this.stats.refused++;
      throw new OverloadedError(`Handler "${this.handler}" is at capacity (${this.maxQueue} requests queued), retry later`, this.retryAfter, { retryAfter: this.retryAfter });
    }
    this.stats.admitted++;
    entry.admitted = performance.now();
    const signal = entry.ctx.signal;
    const onAbort = (): void => {
      if (this.remove(entry)) {
        this.stats.cancelled++;
        entry.fail(signal.reason);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    entry.unlisten = () => signal.removeEventListener('abort', onAbort);
    if (this.order === 'deadline') this.items.splice(this.insertAt(deadlineOf(entry.ctx)), 0, entry);
    else this.items.push(entry);
    this.stats.queued = this.items.length;
  }

  /** `admit`, or the request ends with the refusal: returns whether it waits now. */
  enter(entry: E): boolean {
    try {
      this.admit(entry);
      return true;
    } catch (err) {
      entry.fail(err);
      return false;
    }
  }

  /** Takes up to `n` live entries in queue order; expired ones are failed (504) and skipped. */
  take(n: number): E[] {
    const out: E[] = [];
    const now = performance.now();
    while (out.length < n && this.items.length > 0) {
      const e = this.items.shift()!;
      e.unlisten?.();
      if (e.ctx.signal.aborted) continue;
      if (expired(e.ctx)) {
        this.stats.expired++;
        e.fail(new ResponseTimeoutError(`The deadline of request ${e.ctx.id} passed while it waited for handler "${this.handler}"`));
        continue;
      }
      const waited = now - (e.admitted ?? now);
      this.stats.queueWaitCount++;
      this.stats.queueWaitTotalMs += waited;
      if (waited > this.stats.queueWaitMaxMs) this.stats.queueWaitMaxMs = waited;
      publish('queueWait', () => ({ handler: this.handler, ms: waited }));
      out.push(e);
    }
    this.stats.queued = this.items.length;
    return out;
  }

  private insertAt(deadline: number): number {
    // After every entry with a deadline <= this one: FIFO among equals.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (deadlineOf(this.items[mid]!.ctx) <= deadline) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private remove(entry: E): boolean {
    const i = this.items.indexOf(entry);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.stats.queued = this.items.length;
    return true;
  }
}

function deadlineOf(ctx: EngineContext): number {
  return ctx.deadline ?? never;
}

export function expired(ctx: EngineContext): boolean {
  return ctx.deadline !== undefined && ctx.deadline <= Date.now();
}
