/**
 * The web side when it runs in the main process (direct mode). The main process reaches
 * it through one lazy import of this file, so a server in subprocess mode never loads
 * Fastify and its plugins in the engine's process.
 */
import type { FastifyInstance } from 'fastify';
import type { IPCChannel } from '../../channel/channel.js';
import type { WebSpec } from '../../contract/web-spec.js';
import { buildApp } from './app.js';
import { drainerOf } from './drain.js';
import type { InProcessExtras } from './extras.js';
import { webHealth } from './health.js';

export interface DirectWebOptions {
  spec: WebSpec;
  channel: IPCChannel;
  extras: InProcessExtras;
  observability?: (app: FastifyInstance) => Promise<void>;
}

/** Builds the app a direct-mode server serves; `/_health` reports this one process. */
export function buildDirectApp({ spec, channel, extras, observability }: DirectWebOptions): Promise<FastifyInstance> {
  const supervisor = { restarts: 0, workers: 1, configured: 1, failed: false };
  return buildApp({
    spec,
    channel,
    extras,
    ...(observability ? { observability } : {}),
    health: () => webHealth({ mode: 'direct', channel, codec: 'memory', supervisor, reporting: spec.ipc.enableHealthReporting }),
  });
}

/**
 * Direct mode's stop: the web processes' drain, with no grace for idle connections (no
 * other process shares the port to take their next request).
 */
export function drainDirectApp(app: FastifyInstance, timeout: number): Promise<void> {
  return drainerOf(app).drain(timeout, { idleGrace: 0 });
}
