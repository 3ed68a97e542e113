/**
 * `/metrics` and `/_status` in a web process (or the direct-mode app). Loaded by a
 * dynamic import only when one of them is enabled, so prom-client costs nothing otherwise.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { IPCChannel } from '../../channel/channel.js';
import type { MetricsJson } from '../../contract/control.js';
import type { WebSpec } from '../../contract/web-spec.js';
import { WebMetrics } from '../../observability/metrics/web.js';
import { statusPage } from '../../observability/status/page.js';
import { statusSnapshot } from '../../observability/status/snapshot.js';
import { drainerOf } from './drain.js';
import { AppinfraError, CODES } from '../../errors/index.js';

/** Every process's figures: this one's alone, or all of them gathered over the control channel. */
export type Gather = () => Promise<MetricsJson[]>;

export interface WebObservability {
  metrics: WebMetrics;
  gather: Gather;
}

export { WebMetrics };

/** This web process's metrics; `registry` is shared with the engine's in direct mode (one process, one registry). */
export function createWebMetrics(processName: string, channel: IPCChannel, app: FastifyInstance, registry?: Registry, loopLag = true): WebMetrics {
  return new WebMetrics(processName, channel, () => drainerOf(app).inFlight, registry, loopLag);
}

/** Hooks the HTTP figures into every response and serves the enabled pages. */
export function installObservability(app: FastifyInstance, spec: WebSpec, obs: WebObservability): void {
  const { metrics, statusPage: status } = spec.api;
  const own = new Set<string>();
  if (metrics.enabled) own.add(metrics.path);
  if (status.enabled) own.add(status.path).add(`${status.path}/events`);
  // One onResponse hook per route, holding that route's series: nothing is looked up per
  // request. The pages' own requests (a scrape, the status page's stream) are not the API's traffic.
  app.addHook('onRoute', (route) => {
    if (own.has(route.url)) return;
    const series = obs.metrics.route(route.url);
    const hook: onResponseHookHandler = (req, reply, done) => {
      series.observe(req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse === undefined ? [hook] : [...(Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), hook];
  });
  app.addHook('onClose', (_app, done) => {
    obs.metrics.close();
    done();
  });
  if (metrics.enabled) {
    app.get(metrics.path, { schema: { hide: true } }, async (_req, reply) => {
      const registry = AggregatorRegistry.aggregate((await obs.gather()) as never);
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }
  if (status.enabled) installStatusPage(app, spec.api.title, status.path, status.token, obs.gather);
}

function installStatusPage(app: FastifyInstance, title: string, path: string, token: string | null, gather: Gather): void {
  const allowed = tokenCheck(token);
  const html = statusPage(title);
  const streams = new Set<NodeJS.Timeout>();
  app.get(path, { schema: { hide: true } }, async (req, reply) => {
    if (!allowed(req)) return refuse(reply);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });
  app.get(`${path}/events`, { schema: { hide: true } }, (req, reply) => {
    if (!allowed(req)) {
      void refuse(reply);
      return;
    }
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    const drainer = drainerOf(app);
    let busy = false;
    const tick = async (): Promise<void> => {
      // A server that drains ends this stream, so it does not hold the drain open.
      if (drainer.draining || res.destroyed) return stop();
      if (busy) return;
      busy = true;
      try {
        const snapshot = statusSnapshot((await aggregateJson(gather)) as unknown[]);
        if (!res.destroyed) res.write(`data: ${JSON.stringify(snapshot)}\n\n`);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), 1000);
    streams.add(timer);
    const stop = (): void => {
      clearInterval(timer);
      streams.delete(timer);
      if (!res.writableEnded) res.end();
    };
    res.once('close', stop);
    void tick();
  });
  app.addHook('onClose', (_app, done) => {
    for (const t of streams) clearInterval(t);
    streams.clear();
    done();
  });
}

async function aggregateJson(gather: Gather): Promise<unknown> {
  return AggregatorRegistry.aggregate((await gather()) as never).getMetricsAsJSON();
}

function refuse(reply: FastifyReply): FastifyReply {
  const { status, message } = CODES.APPINFRA_ERR_STATUS_TOKEN;
  return reply.header('www-authenticate', 'Bearer').send(new AppinfraError('APPINFRA_ERR_STATUS_TOKEN', message, status));
}

/** Compares digests, so the time taken says nothing about how much of the token matched. */
function tokenCheck(token: string | null): (req: FastifyRequest) => boolean {
  if (token === null) return () => true;
  const want = createHash('sha256').update(token).digest();
  return (req) => {
    const auth = req.headers.authorization;
    const given = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : (req.query as { token?: unknown } | undefined)?.token;
    return typeof given === 'string' && timingSafeEqual(createHash('sha256').update(given).digest(), want);
  };
}
