/**
 * A web process's view of the rate-limit buckets: takes are `rate` control messages to the
 * main process, which keeps one store for every worker (exact across workers). The takes
 * of one event-loop turn go in one message and come back in one answer, so under load a
 * request costs a share of a round trip, not a round trip.
 */
import type { RateLimitStore, TakeResult } from '../../ingress/buckets.js';
import type { BucketRule } from '../../contract/rate.js';
import type { FromWeb, RateTake, ToWeb } from '../../contract/control.js';
import { ChannelClosedError } from '../../errors/index.js';

interface Waiting {
  resolve: (r: TakeResult) => void;
  reject: (e: Error) => void;
}

export class RemoteBuckets implements RateLimitStore {
  private next = 0;
  private batch: RateTake[] = [];
  private batchFirst = 1;
  private readonly waiting = new Map<number, Waiting>();
  private flushing: NodeJS.Immediate | undefined;

  constructor(private readonly send: (msg: FromWeb) => boolean) {}

  take(bucket: string, key: string, rule: BucketRule): Promise<TakeResult> {
    const id = ++this.next;
    if (this.batch.length === 0) this.batchFirst = id;
    this.batch.push({ bucket, key, rule });
    // After the poll phase: every request parsed in this turn joins the batch.
    this.flushing ??= setImmediate(() => this.flush());
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private flush(): void {
    this.flushing = undefined;
    const first = this.batchFirst;
    const takes = this.batch;
    this.batch = [];
    // No control channel: the main process is gone and this process is leaving; refuse rather than wait.
    if (!this.send({ type: 'rate', first, takes })) {
      for (let i = 0; i < takes.length; i++) {
        this.waiting.get(first + i)?.reject(new ChannelClosedError());
        this.waiting.delete(first + i);
      }
    }
  }

  /** The main process's answers to one batch. */
  receive(msg: Extract<ToWeb, { type: 'rate' }>): void {
    msg.results.forEach((result, i) => {
      const w = this.waiting.get(msg.first + i);
      if (!w) return;
      this.waiting.delete(msg.first + i);
      w.resolve(result);
    });
  }
}
