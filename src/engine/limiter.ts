import { BuildError } from '../errors/index.js';
import { newHandlerStats, type HandlerStats, type QueueOptions } from './handler-stats.js';
import type { Lane, Settle } from './lane.js';
import type { PendingRequest } from './pending.js';
import { WaitQueue, type Queued } from './wait-queue.js';

export interface LimitOptions extends QueueOptions {
  /** Requests this handler works on at once; the others wait in its queue. */
  concurrency: number;
}

/**
 * A plain handler behind a concurrency limit and a bounded queue. A request holds its
 * slot until it has ended (its reply sent, its stream finished, or it was cancelled).
 */
export class Limiter implements Lane {
  readonly stats: HandlerStats = newHandlerStats('limit');
  private readonly queue: WaitQueue<Queued>;
  private readonly concurrency: number;
  /** Requests holding a slot: a count and a mark on each (`p.holdsSlot`), no Set churned per request. */
  private holding = 0;

  constructor(
    name: string,
    options: LimitOptions,
    private readonly settle: Settle,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new BuildError(`engine.handle("${name}", fn, { concurrency }): concurrency must be a positive integer, got ${String(options.concurrency)}`);
    this.concurrency = options.concurrency;
    this.queue = WaitQueue.of(name, options, this.stats);
  }

  submit(payload: unknown, p: PendingRequest): void {
    if (this.holding < this.concurrency && this.queue.size === 0) {
      this.stats.admitted++;
      this.start(p, payload);
      return;
    }
    this.queue.enter({ request: payload, ctx: p, fail: (err) => this.settle.failed(p, err) });
  }

  finished(p: PendingRequest): void {
    if (!p.holdsSlot) return;
    p.holdsSlot = false;
    this.stats.running = --this.holding;
    const [next] = this.queue.take(1);
    if (next) this.start(next.ctx, next.request);
  }

  private start(p: PendingRequest, payload: unknown): void {
    p.holdsSlot = true;
    this.stats.running = ++this.holding;
    this.settle.run(p, payload);
  }
}
