/**
 * Token buckets kept in Redis: the store a rate limit uses when the server runs on the Redis
 * backbone, so that web roles on several machines share one limit (the in-memory store is
 * exact only among the web processes of one main process). One script call per take, so
 * reading, refilling and taking are atomic; the clock is Redis's own (`TIME`), so machines
 * whose clocks drift still refill one bucket at one rate.
 */
import type { Redis } from 'ioredis';
import type { BucketRule, RateLimitStore, TakeResult } from './buckets.js';
import { closeConnections, whenReady } from '../ipc/transports/redis/connect.js';

/** KEYS[1]: the bucket; ARGV: capacity, tokens per ms. Returns { allowed 0|1, tokens left as text }. */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local cap = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = cap
if v[1] then tokens = math.min(cap, tonumber(v[1]) + (now - tonumber(v[2])) * perMs) end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- A full bucket and no bucket answer the same: let Redis forget it once it has refilled.
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / perMs) + 1000)
return { allowed, tostring(tokens) }
`;

type WithTake = Redis & { appinfraTake(key: string, capacity: number, perMs: number): Promise<[number, string]> };

export class RedisBuckets implements RateLimitStore {
  private readonly redis: WithTake;
  private connecting: Promise<void> | undefined;

  /** `redis`: a connection this store owns from now on (closed by `close()`); `prefix`: the keys' namespace. */
  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('appinfraTake', { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as WithTake;
  }

  async take(bucket: string, key: string, rule: BucketRule): Promise<TakeResult> {
    // The backbone's connections queue nothing while Redis is away: connect on first use,
    // and let the takes that arrive meanwhile wait for that one connect.
    if (this.redis.status !== 'ready') {
      this.connecting ??= (this.redis.status === 'wait' ? this.redis.connect() : whenReady(this.redis)).finally(() => {
        this.connecting = undefined;
      });
      await this.connecting;
    }
    const capacity = rule.limit + rule.burst;
    const perMs = rule.limit / rule.periodMs;
    const [allowed, left] = await this.redis.appinfraTake(`${this.prefix}:${bucket}:${key}`, capacity, perMs);
    const tokens = Number(left);
    return allowed === 1
      ? { allowed: true, remaining: Math.floor(tokens), resetMs: Math.ceil((capacity - tokens) / perMs) }
      : { allowed: false, remaining: 0, resetMs: Math.max(1, Math.ceil((1 - tokens) / perMs)) };
  }

  async close(): Promise<void> {
    await closeConnections(this.redis);
  }
}
