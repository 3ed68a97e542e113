/**
 * Rate limits through @fastify/rate-limit, with its state in a `RateLimitStore` (token
 * buckets) instead of the plugin's per-process counters: in subprocess mode the store
 * is the main process's, so n workers share one limit. The plugin does the rest: route
 * and global limits, the X-RateLimit-* headers, Retry-After and the 429.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { BucketRule, RateLimitStore, TakeResult } from '../../../ingress/buckets.js';
import type { LimitConfig } from './rate-limit-config.js';
import { CODES } from '../../../errors/index.js';
import { PolicyError } from './refusal.js';

/** The plugin's store interface over a RateLimitStore: one instance per limit (the global one, each route's). */
function storeFor(store: RateLimitStore, fallback: LimitConfig | undefined) {
  return class BucketStore {
    private readonly rule: BucketRule | undefined;
    private readonly bucket: string;
    constructor(params: Partial<LimitConfig>) {
      this.rule = params.appinfraRule ?? fallback?.appinfraRule;
      this.bucket = params.appinfraBucket ?? fallback?.appinfraBucket ?? 'global';
    }
    incr(key: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void): void {
      const rule = this.rule!;
      const answer = (r: TakeResult): void => cb(null, { current: r.allowed ? rule.limit + rule.burst - r.remaining : rule.limit + rule.burst + 1, ttl: r.resetMs });
      if (store.takeLater) {
        store.takeLater(this.bucket, key, rule, (err, r) => (err ? cb(err) : answer(r!)));
        return;
      }
      let taken: TakeResult | Promise<TakeResult>;
      try {
        taken = store.take(this.bucket, key, rule);
      } catch (err) {
        cb(err as Error);
        return;
      }
      // The in-process store answers at once: no promise per request in direct mode.
      if (taken instanceof Promise) taken.then(answer, (err: Error) => cb(err));
      else answer(taken);
    }
    child(params: Partial<LimitConfig>): BucketStore {
      return new BucketStore(params);
    }
  };
}

/**
 * Registers the plugin. `global`: the server's limit (every route but the exempt ones
 * and those with their own); without it only routes whose config carries a limit are limited.
 */
export async function installRateLimit(app: FastifyInstance, store: RateLimitStore, global: LimitConfig | undefined): Promise<void> {
  await app.register(rateLimit, {
    global: global !== undefined,
    ...(global ?? { max: 1, timeWindow: 1000 }),
    store: storeFor(store, global) as never,
    // The store's answer decides; the plugin's own ban and backoff are not used.
    // The plugin has set Retry-After and the X-RateLimit-* headers already.
    errorResponseBuilder: (req, ctx) => new PolicyError('RATE_LIMITED', `${CODES.RATE_LIMITED.message} (in ${Math.ceil(ctx.ttl / 1000)}s)`, 'rate_limit', req.routeOptions.url),
  });
}
