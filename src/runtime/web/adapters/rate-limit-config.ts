/**
 * A rate rule (config data) as @fastify/rate-limit's route config takes it. Apart from the
 * plugin so that routes can be configured without loading the plugin in a web process that
 * has no limit.
 */
import type { FastifyRequest } from 'fastify';
import type { BucketRule } from '../../../ingress/buckets.js';
import { parseRate } from '../../../ingress/rate.js';
import type { RateRuleData } from '../../../server/config/ingress.js';

/** What the plugin's route config carries for one limit (merged into the plugin's params). */
export interface LimitConfig {
  max: number;
  timeWindow: number;
  keyGenerator: (req: FastifyRequest) => string;
  appinfraRule: BucketRule;
  appinfraBucket: string;
}

/** A rule as the plugin takes it; `bucket` names its buckets in the store. */
export function limitConfig(rule: RateRuleData, bucket: string): LimitConfig {
  const { limit, periodMs } = parseRate(rule.rate);
  const header = rule.key.startsWith('header:') ? rule.key.slice('header:'.length).toLowerCase() : undefined;
  const keyGenerator =
    rule.key === 'global'
      ? () => ''
      : header
        ? (req: FastifyRequest) => {
            const v = req.headers[header];
            // No header: the client is its address, so a missing key cannot share one bucket with everyone.
            return typeof v === 'string' && v !== '' ? `h:${v}` : `ip:${req.ip}`;
          }
        : (req: FastifyRequest) => req.ip;
  return { max: limit + rule.burst, timeWindow: periodMs, keyGenerator, appinfraRule: { limit, periodMs, burst: rule.burst }, appinfraBucket: bucket };
}
