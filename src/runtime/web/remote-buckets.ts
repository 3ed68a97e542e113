/**
 * A web process's view of the rate-limit buckets: each take is a `rate` control message
 * to the main process, which keeps one store for every worker (exact across workers).
 */
import type { BucketRule, RateLimitStore, TakeResult } from '../../ingress/buckets.js';
import type { FromWeb, ToWeb } from '../../contract/control.js';
import { ChannelClosedError } from '../../errors/index.js';

export class RemoteBuckets implements RateLimitStore {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: TakeResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly send: (msg: FromWeb) => boolean) {}

  take(bucket: string, key: string, rule: BucketRule): Promise<TakeResult> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // No control channel: the main process is gone and this process is leaving; refuse rather than wait.
      if (!this.send({ type: 'rate', id, bucket, key, rule })) {
        this.waiting.delete(id);
        reject(new ChannelClosedError());
      }
    });
  }

  /** The main process's answer to one take. */
  receive(msg: Extract<ToWeb, { type: 'rate' }>): void {
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    w.resolve(msg.result);
  }
}
