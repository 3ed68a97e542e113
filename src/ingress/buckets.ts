/**
 * Token buckets: where the rate limits' state lives. One `RateLimitStore` serves every
 * web process of a server (kept in the main process and reached over the control
 * channel), so a limit is the server's whatever the number of workers. A store kept
 * elsewhere (Redis, for servers on many machines) implements the same interface.
 */

import type { BucketRule, TakeResult } from '../contract/rate.js';

export type { BucketRule, TakeResult };

/**
 * Where buckets are kept. `bucket` names the limit (the global one, or a route's);
 * `key` the client within it (an IP, a header value, or '' for a global limit).
 */
export type TakeDone = (err: Error | null, result?: TakeResult) => void;

export interface RateLimitStore {
  take(bucket: string, key: string, rule: BucketRule): TakeResult | Promise<TakeResult>;
  /** The same take answered through a callback, for a store that answers later: no promise per request. */
  takeLater?(bucket: string, key: string, rule: BucketRule, done: TakeDone): void;
  close?(): void | Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
  perMs: number;
  capacity: number;
}

/** The in-memory store: exact within one process. Full buckets are forgotten, so idle clients cost nothing. */
export class TokenBuckets implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();
  private sweeps = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  take(bucket: string, key: string, rule: BucketRule): TakeResult {
    const id = `${bucket}\u0000${key}`;
    const capacity = rule.limit + rule.burst;
    const perMs = rule.limit / rule.periodMs;
    const now = this.now();
    const b = this.buckets.get(id);
    let tokens = b ? Math.min(capacity, b.tokens + (now - b.at) * perMs) : capacity;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    if (b) {
      b.tokens = tokens;
      b.at = now;
    } else {
      this.buckets.set(id, { tokens, at: now, perMs, capacity });
    }
    if (++this.sweeps >= 10_000) this.sweep(now);
    return allowed
      ? { allowed, remaining: Math.floor(tokens), resetMs: Math.ceil((capacity - tokens) / perMs) }
      : { allowed, remaining: 0, resetMs: Math.max(1, Math.ceil((1 - tokens) / perMs)) };
  }

  /** Buckets kept now (for tests and health). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled: a full bucket and no bucket answer the same, so memory stays bounded under many keys. */
  private sweep(now: number): void {
    this.sweeps = 0;
    for (const [id, b] of this.buckets) if (b.tokens + (now - b.at) * b.perMs >= b.capacity) this.buckets.delete(id);
  }
}
