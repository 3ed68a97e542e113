/**
 * The ingress policies of seed 000 section 7, installed on a web side before any route:
 * body size (413), auth (401/403) and rate limits (429). Forward routes carry their own
 * settings as data; an `onRoute` hook turns them into Fastify route options, so every
 * adapter (JSON, SSE, WebSocket, GraphQL) gets them without knowing about them. A route
 * module sets the same things on its own routes through `config: { rateLimit, auth }` and
 * `bodyLimit`.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSpec } from '../../../contract/web-spec.js';
import type { RateLimitStore } from '../../../ingress/buckets.js';
import type { RateRuleData } from '../../../server/config/ingress.js';
import { limitConfig } from './rate-limit-config.js';

export async function installIngressPolicies(app: FastifyInstance, spec: WebSpec, store: RateLimitStore): Promise<void> {
  const byPath = new Map(spec.forwards.map((r) => [r.path, r]));
  const limit = spec.api.rateLimit;
  const exempt = new Set(limit?.exempt ?? []);
  const global = limit ? limitConfig(limit, 'global') : undefined;
  // Before the rate-limit plugin's own onRoute hook, which reads `config.rateLimit`.
  app.addHook('onRoute', (route) => {
    const forward = byPath.get(route.url);
    const config = { ...((route.config as Record<string, unknown> | undefined) ?? {}) };
    if (forward?.maxPayloadBytes !== undefined) route.bodyLimit ??= forward.maxPayloadBytes;
    if (forward?.auth !== undefined) config.auth ??= forward.auth;
    if (exempt.has(route.url)) config.rateLimit = false;
    else if (forward?.rateLimit === false) config.rateLimit = false;
    else if (forward?.rateLimit) config.rateLimit = limitConfig(forward.rateLimit, forward.path);
    else if (isOwnRule(config.rateLimit)) config.rateLimit = limitConfig({ burst: 0, key: 'ip', ...config.rateLimit }, route.url);
    route.config = config as typeof route.config;
  });
  // Loaded only when used: a web process without these policies does not pay for their modules at start.
  if (spec.api.auth) await (await import('./auth.js')).installAuth(app, spec.api.auth);
  if (global || spec.forwards.some((r) => r.rateLimit)) await (await import('./rate-limit.js')).installRateLimit(app, store, global);
}

/** A route module's `config: { rateLimit: { rate: '5/s', burst?, key? } }`: the same rule as a forward route's. */
function isOwnRule(v: unknown): v is Pick<RateRuleData, 'rate'> & Partial<RateRuleData> {
  return typeof v === 'object' && v !== null && typeof (v as { rate?: unknown }).rate === 'string';
}
