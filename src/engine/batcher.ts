import { BuildError } from '../errors/index.js';
import type { EngineContext } from './context.js';
import { countBatch, newHandlerStats, type HandlerStats, type QueueOptions } from './handler-stats.js';
import { positive, type Lane, type Settle } from './lane.js';
import type { PendingRequest } from './pending.js';
import { WaitQueue, type Queued } from './wait-queue.js';

/**
 * A handler for many requests at once: result `i` answers request `i`. An item that is an
 * Error (an `EngineError` for a status of your choice) fails that request alone; a throw
 * fails the whole batch.
 */
export type BatchHandler<Req = any, Res = unknown> = (requests: Req[], ctxs: EngineContext[]) => (Res | Error)[] | Promise<(Res | Error)[]>;

export interface BatchOptions extends QueueOptions {
  /** Most requests in one call (default 32). */
  maxBatchSize?: number;
  /** How long the first request of a batch waits for others to join (ms, default 5; 0 = only those already queued). */
  maxWaitMs?: number;
  /** Batches running at once (default 1); requests arriving meanwhile form the next batch. */
  concurrency?: number;
}

/**
 * Dynamic batching for unary requests, as Triton's dynamic batcher and TorchServe's
 * `batch_size`/`max_batch_delay`: a batch leaves when it is full or when its first request
 * has waited `maxWaitMs`, whichever comes first. A request cancelled or past its deadline
 * while it waits is taken out before the batch starts.
 */
export class Batcher implements Lane {
  readonly stats: HandlerStats = newHandlerStats('batch');
  private readonly queue: WaitQueue<Queued>;
  private readonly maxBatchSize: number;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;
  private inflight = 0;
  /** The one timer of this batcher: armed while requests wait for a batch to fill. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly handler: BatchHandler,
    options: BatchOptions,
    private readonly settle: Settle,
  ) {
    if (typeof handler !== 'function') throw new BuildError(`engine.handleBatch("${name}", fn): fn must be a function`);
    this.maxBatchSize = Math.floor(positive(options.maxBatchSize, 32));
    this.maxWaitMs = options.maxWaitMs !== undefined && options.maxWaitMs >= 0 ? options.maxWaitMs : 5;
    this.concurrency = Math.floor(positive(options.concurrency, 1));
    this.queue = WaitQueue.of(name, options, this.stats);
  }

  submit(payload: unknown, p: PendingRequest): void {
    if (!this.queue.enter({ request: payload, ctx: p, fail: (err) => this.settle.failed(p, err) })) return;
    if (this.queue.size >= this.maxBatchSize) this.flush();
    else if (this.maxWaitMs === 0) queueMicrotask(() => this.flush());
    else this.timer ??= setTimeout(() => this.onTimer(), this.maxWaitMs);
  }

  finished(): void {
    // Requests end one by one; the batch's slot is freed when its call returned (see `runBatch`).
  }

  private onTimer(): void {
    this.timer = undefined;
    this.flush();
  }

  private flush(): void {
    while (this.inflight < this.concurrency && this.queue.size > 0) {
      const batch = this.queue.take(this.maxBatchSize);
      if (batch.length === 0) break;
      void this.runBatch(batch);
    }
    if (this.queue.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async runBatch(batch: Queued[]): Promise<void> {
    this.inflight++;
    this.stats.running += batch.length;
    countBatch(this.name, this.stats, batch.length);
    try {
      const results = await this.handler(
        batch.map((e) => e.request),
        batch.map((e) => e.ctx),
      );
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new Error(`engine.handleBatch("${this.name}"): the handler returned ${Array.isArray(results) ? `${results.length} results` : typeof results} for ${batch.length} requests; it must return one result per request, in order`);
      }
      batch.forEach((e, i) => {
        const r = results[i];
        if (r instanceof Error) this.settle.failed(e.ctx, r);
        else this.settle.done(e.ctx, r);
      });
    } catch (err) {
      // The whole call failed: every request of the batch gets its error.
      for (const e of batch) this.settle.failed(e.ctx, err);
    } finally {
      this.inflight--;
      this.stats.running -= batch.length;
      // Requests that arrived while this batch ran have waited already: the next batch leaves now.
      if (this.queue.size > 0) this.flush();
    }
  }
}
