/** A rate-limit bucket's rule and the answer to one take: data that crosses between a web process and the main process. */

/** `limit` tokens per `periodMs`, refilled continuously, holding at most `limit + burst`. */
export interface BucketRule {
  limit: number;
  periodMs: number;
  burst: number;
}

/** What taking one token answered. */
export interface TakeResult {
  allowed: boolean;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Milliseconds until the bucket is full again (allowed) or holds one token (refused). */
  resetMs: number;
}
