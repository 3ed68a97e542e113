/**
 * The web side when it runs in the main process (direct mode). The main process reaches
 * it through one lazy import of this file, so a server in subprocess mode never loads
 * Fastify and its plugins in the engine's process.
 */
import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../channel/channel.js';
import type { WebSpec } from '../../contract/web-spec.js';
import { buildApp, startApp } from './app.js';
import { drainerOf } from './drain.js';
import type { InProcessExtras } from './extras.js';
import type { RateLimitStore } from '../../ingress/buckets.js';
import { webHealth } from './health.js';
import type { GroupStatus } from '../../contract/groups.js';
import type { EngineMetrics } from '../../observability/metrics/engine.js';

export interface DirectWebOptions {
  spec: WebSpec;
  channel: IPCChannel;
  extras: InProcessExtras;
  rateStore?: RateLimitStore;
  /** Process groups' status, for `/_health`. */
  groups?: () => GroupStatus[];
  /** The engine's metrics, when `/metrics` or `/_status` is on: the web side's figures join its registry. */
  metrics?: EngineMetrics;
}

/** Builds the app a direct-mode server serves (startup callbacks run); `/_health` reports this one process. */
export async function buildDirectApp({ spec, channel, extras, rateStore, groups, metrics }: DirectWebOptions): Promise<FastifyInstance> {
  const base = { restarts: 0, workers: 1, configured: 1, failed: false };
  const app = await buildApp({
    spec,
    channel,
    extras,
    ...(metrics
      ? {
          observability: async (app: FastifyInstance) => {
            const obs = await import('./observability.js');
            // One process: its event-loop lag is reported once, by the engine's metrics.
            const web = obs.createWebMetrics('direct', channel, app, metrics.registry, false);
            obs.installObservability(app, spec, { metrics: web, gather: async () => [await metrics.registry.getMetricsAsJSON()] });
          },
        }
      : {}),
    health: () => webHealth({ mode: 'direct', channel, codec: 'memory', supervisor: groups ? { ...base, groups: groups() } : base, reporting: spec.ipc.enableHealthReporting }),
    ...(rateStore ? { rateStore } : {}),
  });
  try {
    await startApp(app);
  } catch (err) {
    // Lifespans that did set up are torn down; the start reports the callback that failed.
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

/**
 * Direct mode's stop: the web processes' drain, with no grace for idle connections (no
 * other process shares the port to take their next request).
 */
export function drainDirectApp(app: FastifyInstance, timeout: number): Promise<void> {
  return drainerOf(app).drain(timeout, { idleGrace: 0 });
}
